"""``cutout review serve``: a web page to look at the cut-outs the quality gate held, and decide.

Every held upload is a card: its original, its master on a checkerboard, every held variant, the
gate's reasons, the score and the profile, images loaded by the browser from short-lived presigned
S3 URLs. A decision goes through ``cutout_tools.review_decisions`` (the code path of ``cutout review
approve|reject``): outputs published or removed, the event announced. A dev/operator tool: it lives
in ``cutout_tools``, never in the layer.

- ``held.py``: the held uploads of an output bucket, newest first (object HEADs cached by ETag);
- ``cards.py``: what a card shows, with its presigned URLs;
- ``app.py``: the Starlette app (the page, the decisions, the safety rules);
- ``serve.py``: uvicorn on loopback, in the foreground (the command) or in a thread (the demo);
- ``screenshot.py``: the page as headless Chromium shows it (``make demo``'s ``review-page.png``);
- ``review.html`` and ``static/review.js``: the page, its keyboard and its decisions; its style is
  the run report's (``report/cutout.css``, ``report/figures.html``).
"""
