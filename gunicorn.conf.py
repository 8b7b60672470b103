"""gunicorn reads this file from its working directory (the image's /app, the project root).

The access log leaves out the query string and the referrer: the LeerID callback's query holds
`code` and `state`, which must not reach a log (nor may pages a pupil came from). It keeps the
method, path, status, size, duration and our request id, to find the application's log lines.
"""

import os

# Web requests give up on a query after 5 s, so a slow database ends on the 503 page quickly;
# workers and commands, which gunicorn does not start, keep no limit (see settings).
os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT", "5000")

access_log_format = '%(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms %({x-request-id}o)s'
