#!/bin/sh
# The first step of both images' build stage (the worker's Dockerfile and deploy/Dockerfile):
# Python 3 with its headers and a compiler (webrtcvad compiles), and an empty virtual environment
# in /opt/venv that the next steps fill and the runtime stage copies. Debian's and Ubuntu's
# security updates replace package versions: pinning them would break the build within weeks.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-dev build-essential
rm -rf /var/lib/apt/lists/*
python3 -m venv /opt/venv
