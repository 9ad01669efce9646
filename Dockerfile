# Image for the action server, the gateway and the one-shot prepare job (Python 3.11 side).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
WORKDIR /app
COPY requirements/app.txt requirements/app.txt
# CPU build of torch (the default PyPI wheel pulls CUDA libraries)
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
 && grep -v '^torch==' requirements/app.txt > /tmp/req.txt \
 && pip install --no-cache-dir -r /tmp/req.txt
COPY pyproject.toml ./
COPY common common
COPY recommender recommender
COPY shop shop
COPY learning learning
COPY actions actions
COPY bot bot
COPY tools tools
COPY data data
RUN pip install --no-cache-dir --no-deps -e .
RUN useradd --create-home aisle && mkdir -p var && chown aisle var
USER aisle
