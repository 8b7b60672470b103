"""Run by test_crash.py in its own process: 8 writer threads and a sealer, until the database dies.

Prints ``ack <request id>`` for every ``privacy.log`` that returned (the entry is committed),
flushed at once, so the test knows exactly what was acknowledged before the crash.
"""

from __future__ import annotations

import os
import sys
import threading
import uuid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ilearn_auth.settings_test")
os.environ["PRIVACY_LOG_SEALER"] = "true"


def main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections

    import privacy
    from privacy.services import privacy_log_seal

    settings.PRIVACY_LOG_SEALER = True
    lock = threading.Lock()
    stop = threading.Event()

    def writer(index: int) -> None:
        try:
            while not stop.is_set():
                request_id = uuid.uuid4().hex
                privacy.log(
                    "authn_login_success",
                    actor="pupil:" + f"{index:02x}" * 32,
                    subject=f"{index:02x}" * 32,
                    details={"kind": "identified"},
                    request_id=request_id,
                )
                with lock:
                    sys.stdout.write(f"ack {request_id}\n")
                    sys.stdout.flush()
        except Exception:
            stop.set()
        finally:
            connections.close_all()

    def sealer() -> None:
        try:
            while not stop.is_set():
                privacy_log_seal(batch_size=200)
        except Exception:
            stop.set()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    threads.append(threading.Thread(target=sealer))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main()
