"""Admin for accounts: searchable by username, e-mail and phone, filterable by sign-up state."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from users.models import User


@admin.register(User)
class AccountAdmin(UserAdmin):
    list_display = ("username", "email", "phone_number", "auth_type", "auth_status", "is_active", "date_joined")
    list_filter = ("auth_type", "auth_status", "is_active", "is_staff")
    search_fields = ("username", "email", "phone_number", "first_name")
    ordering = ("-date_joined",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Identity", {"fields": ("email", "phone_number", "auth_type", "auth_status")}),
        ("Profile", {"fields": ("first_name", "last_name", "bio", "gender")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
