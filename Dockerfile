# syntax=docker/dockerfile:1
# The engine's one image: `uep worker`, `uep projector`, `uep migrate` (and later `uep api`) are
# the same image with another command. docker-compose.yml passes PYTHON_VERSION from .env; the
# default here is the same pin so a plain `docker build .` gives the same image.
ARG PYTHON_VERSION=3.12.13

FROM python:${PYTHON_VERSION}-slim-trixie AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/uep
WORKDIR /src
# Dependencies first, read from pyproject.toml, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
    && /opt/uep/bin/pip install -r requirements.txt
COPY . .
RUN /opt/uep/bin/pip install --no-deps .

FROM python:${PYTHON_VERSION}-slim-trixie
# A fixed uid so volume and secret file permissions can be granted to it on the host.
RUN groupadd --system --gid 10001 uep \
    && useradd --system --uid 10001 --gid uep --home-dir /home/uep --create-home uep
COPY --from=build /opt/uep /opt/uep
ENV PATH=/opt/uep/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    UEP_LOG_FORMAT=json \
    UEP_STATE_DIR=/home/uep/.uep
USER uep
WORKDIR /home/uep
ENTRYPOINT ["uep"]
CMD ["worker"]
# /metrics, /healthz, /readyz of the worker or the projector; the worker's Temporal SDK metrics.
EXPOSE 9464 9465
# Fits the default command (asks the worker's /readyz); docker-compose.yml gives each service the
# probe of what it runs.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["uep", "probe", "worker"]
