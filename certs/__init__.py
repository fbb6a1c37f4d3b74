"""mitmproxy's confdir: the CA is generated here at first start; `python -m certs.export`
copies out what a phone needs."""
