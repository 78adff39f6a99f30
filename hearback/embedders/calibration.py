"""The numbers calibrated for each embedder on the tuning half of the development set: a leaf
module, so that the embedders and the service read them without importing each other."""

# Calibrated on the tuning half of the development set (README, "Speaker identity"); the embedder
# modules read them from here so that the service can know them without loading a model.
SAME_VOICE = {"campp": 0.35, "ge2e": 0.70}  # average-linkage cut chosen on the tuning half (bench/diarization_eval.py --same-voice)
# The score a cluster needs to take an enrolled name, chosen on the tuning half so that no cluster
# that is mostly a stranger's takes a name (bench/identity_eval.py --grid; README, "Participants and
# groups"): without participants (every enrolled voice a candidate), for a participant, and for anyone
# enrolled but not listed when participants are given. CAM++'s are naming scores, cosines with its mean
# vector taken out (`centre.py`). GE2E keeps its equal-error point on raw cosines (not re-tuned).
IDENTIFY_THRESHOLD = {"campp": 0.42, "ge2e": 0.71}
PARTICIPANT_THRESHOLD = {"campp": 0.42, "ge2e": 0.71}
GUEST_THRESHOLD = {"campp": 0.46, "ge2e": 0.75}

# With participants, a cluster still unnamed is clearly a participant's (`hearback.identify.ClearRule`):
# (score, margin over the participant's other clusters, margin over the cluster's other participants),
# chosen on the tuning half's 144 meetings (72, each voice enrolled from two clips in turn) with no
# stranger's cluster named and at most 1 % of the strangers' speech (bench/identity_eval.py --grid;
# chosen on 24, 0.32/0.20 named strangers on more). GE2E has none.
CLEAR_PARTICIPANT = {"campp": (0.38, 0.25, 0.05)}
