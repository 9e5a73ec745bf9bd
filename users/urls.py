"""Routes of the public contract (the seven /user/ endpoints with the seed's paths), plus the
delivery status of a sign-up and the logged-in user's profile."""

from django.urls import re_path

from users import views

app_name = "users"

# The trailing slash is optional: a client that posts to /user/signup gets the endpoint, not a
# redirect that would drop its body.

urlpatterns = [
    re_path(r"^signup/?$", views.SignupView.as_view(), name="signup"),
    re_path(r"^verify/?$", views.VerifyView.as_view(), name="verify"),
    re_path(r"^new-verify/?$", views.NewVerifyView.as_view(), name="new-verify"),
    re_path(r"^delivery-status/?$", views.DeliveryStatusView.as_view(), name="delivery-status"),
    re_path(r"^change-user-info/?$", views.ChangeUserInfoView.as_view(), name="change-user-info"),
    re_path(r"^me/?$", views.MeView.as_view(), name="me"),
    re_path(r"^login/?$", views.LoginView.as_view(), name="login"),
    re_path(r"^logout/?$", views.LogoutView.as_view(), name="logout"),
    re_path(r"^login-refresh/?$", views.LoginRefreshView.as_view(), name="login-refresh"),
]
