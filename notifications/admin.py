"""Admin list of deliveries: read-only, recipients masked."""

from django.contrib import admin

from notifications.models import Delivery


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "channel", "recipient_masked", "purpose", "status", "attempts", "last_error")
    list_filter = ("channel", "status", "purpose")
    search_fields = ("provider_message_id", "subject")
    readonly_fields = [field.name for field in Delivery._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
