"""The local demo: a stand-in LeerID with fictitious demo pupils (see demo/leerid.py)."""
