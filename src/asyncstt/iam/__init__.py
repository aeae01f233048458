"""Identity and access: folders, service accounts, roles, credentials, quotas, audit."""
