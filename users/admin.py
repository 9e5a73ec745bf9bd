"""Admin for accounts: searchable by username, e-mail and phone, filterable by sign-up state.

An account added here skips the sign-up flow, so it is created finished (``auth_status`` ``done``)
with a username, a password and, optionally, an e-mail address and a phone number in the same
canonical form sign-up stores; it can log in at once.

Sessions are read-only here: who is logged in, how and from which network; an action ends the
selected ones (their refresh and access tokens stop working at once).
"""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_ratelimit.core import get_usage

from project.exceptions import RateLimited, error_body
from users.canonical import normalize_email, normalize_phone, normalize_username
from users.models import AuthStatus, AuthType, Session, SessionEnd, User
from users.services.sessions import sessions_end


class IdentityFieldsMixin:
    """E-mail and phone number stored in the canonical form sign-up uses (so that uniqueness and
    login see them), a username refused when it or a look-alike is taken (the model's key, which the
    form's own unique check cannot see), and a blank username read as "" (UsernameField cannot take
    the nullable column's None; the model stores blank as NULL)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "username" in self.fields:
            self.fields["username"].empty_value = ""
        if "phone_number" in self.fields:
            self.fields["phone_number"].help_text = _("International (+12025550143) or in the default phone region.")

    def clean_username(self) -> str:
        username = normalize_username(self.cleaned_data.get("username") or "")
        if username and User.objects.username_taken(username, exclude_pk=self.instance.pk):
            raise forms.ValidationError(_("This username, or one that looks like it, is taken."))
        return username

    def clean_email(self) -> str | None:
        value = self.cleaned_data.get("email") or ""
        if not value.strip():
            return None
        email = normalize_email(value)
        if email is None:
            raise forms.ValidationError(_("Enter a valid e-mail address."))
        return email

    def clean_phone_number(self) -> str | None:
        value = self.cleaned_data.get("phone_number") or ""
        if not value.strip():
            return None
        phone = normalize_phone(value)
        if phone is None:
            raise forms.ValidationError(_("Enter a valid phone number."))
        return phone


class AccountCreationForm(IdentityFieldsMixin, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "email", "phone_number")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The model allows no username (a sign-up in progress); a finished account needs one.
        self.fields["username"].required = True

    def save(self, commit: bool = True) -> User:
        user = self.instance
        user.auth_status = AuthStatus.DONE
        user.auth_type = AuthType.PHONE if user.phone_number and not user.email else AuthType.EMAIL
        return super().save(commit=commit)


class AccountChangeForm(IdentityFieldsMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


@admin.register(User)
class AccountAdmin(UserAdmin):
    form = AccountChangeForm
    add_form = AccountCreationForm
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "phone_number", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = ("username", "email", "phone_number", "auth_type", "auth_status", "is_active", "date_joined")
    list_filter = ("auth_type", "auth_status", "is_active", "is_staff")
    search_fields = ("username", "email", "phone_number", "first_name")
    ordering = ("-date_joined",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Identity"), {"fields": ("email", "phone_number", "auth_type", "auth_status")}),
        (_("Profile"), {"fields": ("first_name", "last_name", "bio", "gender", "language")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ("user", "method", "client", "user_agent", "created_at", "last_used_at", "ended_at", "end_reason")
    list_filter = ("method", "end_reason", ("ended_at", admin.EmptyFieldListFilter))
    list_select_related = ("user",)
    search_fields = ("user__username", "user__email", "user__phone_number")
    ordering = ("-created_at",)
    fields = (*list_display, "id", "expires_at", "generation", "rotated_at")
    actions = ["end_sessions"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Session | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Session | None = None) -> bool:
        return False  # an ended session stays on record until housekeeping prunes it

    def has_end_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("users.change_session")

    @admin.action(description=_("End the selected sessions"), permissions=["end"])
    def end_sessions(self, request: HttpRequest, queryset: QuerySet[Session]) -> None:
        ended = 0
        for user_id in set(queryset.values_list("user_id", flat=True)):
            ids = list(queryset.filter(user_id=user_id).values_list("id", flat=True))
            ended += sessions_end(user_id=user_id, session_ids=ids, reason=SessionEnd.ENDED)
        message = ngettext("%(count)d session ended.", "%(count)d sessions ended.", ended)
        self.message_user(request, message % {"count": ended})


def admin_login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    """The admin's login page behind the admin_login_ip rate limit: staff passwords guard the most
    privileged accounts, so they get the strictest limit. One rule on a Django form view: counted
    by django-ratelimit as it comes (its public get_usage, keyed on the client address)."""
    rate = settings.RATE_LIMITS.get("admin_login_ip")
    if request.method == "POST" and rate:
        usage = get_usage(request, group="admin_login_ip", key="ip", rate=rate, method="POST", increment=True)
        if usage and usage["should_limit"]:
            limited = RateLimited(retry_after=usage["time_left"])
            response = JsonResponse(error_body(limited.message, limited.code), status=limited.status)
            response["Retry-After"] = str(max(1, int(limited.retry_after or 1)))
            return response
    return admin.site.login(request, extra_context)
