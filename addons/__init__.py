"""mitmproxy addons of teslahome; `entry.py` registers them all."""
