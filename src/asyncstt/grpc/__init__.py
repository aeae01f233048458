"""The gRPC front door: the SpeechKit, Operation, IAM and endpoint services over the same service as REST."""

from __future__ import annotations
