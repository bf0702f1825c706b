"""Statistical process control (XmR charts) the Making Data Count way; see xmr.py for the rules."""
