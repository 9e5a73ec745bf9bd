"""Provider webhooks."""

from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("twilio/status/", views.TwilioStatusCallbackView.as_view(), name="twilio-status"),
]
