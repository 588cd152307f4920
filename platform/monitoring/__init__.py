"""Health endpoints for the load balancers and Prometheus metrics for the monitoring system."""
