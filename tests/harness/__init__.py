"""The test harness: private MariaDB, Redis (and later slapd, IdPs, nginx, Chromium) started for the test run."""
