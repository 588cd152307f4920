"""The REST API (/api/v1/): DRF wiring only. Each app keeps its serializers and viewsets in its own api/ module."""
