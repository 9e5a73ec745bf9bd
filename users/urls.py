"""Routes of the /user/ API: the seven endpoints of the public contract with the seed's paths, the
sign-up's delivery status, and the rest of an account's life (profile, password reset, login by
code, change of address or number, sessions, deletion)."""

from django.urls import re_path

from users.views import account, login, password, signup

app_name = "users"

# The trailing slash is optional: a client that posts to /user/signup gets the endpoint, not a
# redirect that would drop its body.

urlpatterns = [
    re_path(r"^signup/?$", signup.SignupView.as_view(), name="signup"),
    re_path(r"^verify/?$", signup.VerifyView.as_view(), name="verify"),
    re_path(r"^new-verify/?$", signup.NewVerifyView.as_view(), name="new-verify"),
    re_path(r"^delivery-status/?$", signup.DeliveryStatusView.as_view(), name="delivery-status"),
    re_path(r"^change-user-info/?$", signup.ChangeUserInfoView.as_view(), name="change-user-info"),
    re_path(r"^login/?$", login.LoginView.as_view(), name="login"),
    re_path(r"^logout/?$", login.LogoutView.as_view(), name="logout"),
    re_path(r"^login-refresh/?$", login.LoginRefreshView.as_view(), name="login-refresh"),
    re_path(r"^login-code/?$", login.LoginCodeView.as_view(), name="login-code"),
    re_path(r"^login-code/confirm/?$", login.LoginCodeConfirmView.as_view(), name="login-code-confirm"),
    re_path(r"^logout-all/?$", login.LogoutAllView.as_view(), name="logout-all"),
    re_path(r"^sessions/?$", login.SessionsView.as_view(), name="sessions"),
    re_path(
        r"^sessions/(?P<session_id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/?$",
        login.SessionView.as_view(),
        name="session",
    ),
    re_path(r"^password-reset/?$", password.PasswordResetView.as_view(), name="password-reset"),
    re_path(
        r"^password-reset/new-code/?$", password.PasswordResetNewCodeView.as_view(), name="password-reset-new-code"
    ),
    re_path(r"^password-reset/confirm/?$", password.PasswordResetConfirmView.as_view(), name="password-reset-confirm"),
    re_path(r"^me/?$", account.MeView.as_view(), name="me"),
    re_path(r"^change-identifier/?$", account.ChangeIdentifierView.as_view(), name="change-identifier"),
    re_path(
        r"^change-identifier/confirm/?$",
        account.ChangeIdentifierConfirmView.as_view(),
        name="change-identifier-confirm",
    ),
]
