"""Routes of the public contract (the seven /user/ endpoints with the seed's paths), plus the
delivery status of a sign-up and the logged-in user's profile."""

from django.urls import path

from users import views

app_name = "users"

urlpatterns = [
    path("signup/", views.SignupView.as_view(), name="signup"),
    path("verify/", views.VerifyView.as_view(), name="verify"),
    path("new-verify/", views.NewVerifyView.as_view(), name="new-verify"),
    path("delivery-status/", views.DeliveryStatusView.as_view(), name="delivery-status"),
    path("change-user-info/", views.ChangeUserInfoView.as_view(), name="change-user-info"),
    path("me/", views.MeView.as_view(), name="me"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("login-refresh/", views.LoginRefreshView.as_view(), name="login-refresh"),
]
