# MLflow tracking server, installed from python/requirements-server.txt so it matches the clients.
# docker-compose.yml gives the real command (artifacts, workers, allowed hosts) and the backend
# store (MLFLOW_BACKEND_STORE_URI, PostgreSQL through psycopg from the same requirements file).

FROM python:3.11-slim-bookworm
# uid 1000 owns /shared in every image, so a fresh named volume is writable by all services.
RUN useradd --uid 1000 --user-group --create-home --shell /usr/sbin/nologin mlflow \
 && install -d -o mlflow -g mlflow /shared
COPY python/requirements-server.txt /tmp/requirements-server.txt
RUN python -m venv /opt/mlflow \
 && /opt/mlflow/bin/pip install --no-cache-dir --disable-pip-version-check -r /tmp/requirements-server.txt
# The job runner serves GenAI features we do not use and costs ~230 MB.
ENV PATH=/opt/mlflow/bin:$PATH MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false
USER 1000:1000
WORKDIR /home/mlflow
EXPOSE 5010
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=5 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5010/health', timeout=4)"]
CMD ["mlflow", "server", "--host", "0.0.0.0", "--port", "5010"]
