"""Routes of the web pages. They sit beside, never under, ``/user/`` (the API), ``/api/``, ``/admin/``
and ``/health/``."""

from django.urls import path

from web.views import Page

app_name = "web"


def _page(name: str):
    return Page.as_view(page=name, template_name=f"pages/{name}.html")


urlpatterns = [
    path("", _page("home"), name="home"),
    path("signup/", _page("signup"), name="signup"),
    path("verify/", _page("verify"), name="verify"),
    path("profile/", _page("profile"), name="profile"),
    path("login/", _page("login"), name="login"),
    path("password-reset/", _page("password_reset"), name="password_reset"),
    path("password-reset/confirm/", _page("password_reset_confirm"), name="password_reset_confirm"),
    path("login-code/", _page("login_code"), name="login_code"),
    path("login-code/confirm/", _page("login_code_confirm"), name="login_code_confirm"),
    path("account/", _page("account"), name="account"),
]
