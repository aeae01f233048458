"""Text normalisation: engine output -> the spoken words and the text a recognition spec asks for."""

from __future__ import annotations
