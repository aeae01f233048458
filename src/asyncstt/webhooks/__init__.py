"""Webhooks: each operation that ends in a folder with a webhook is announced to it by a signed POST, from an
outbox in the store, retried with backoff for up to a day."""
