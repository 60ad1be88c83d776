"""Tracking truth: which hits are real reads.

agent.py reads the user agent; network.py knows who owns an address; request.py turns one
request's evidence into a verdict; context.py relabels with what a message's other hits show
(timing, bursts, the sender's own views); rerun.py applies the current rules to stored hits.
"""
