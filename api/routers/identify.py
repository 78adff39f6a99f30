"""Identify: cluster embeddings in, names and scores out (what a RunPod worker's output feeds)."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Depends

from api.deps import service
from api.schemas import IdentifiedCluster, IdentifyRequest, IdentifyResponse
from speakers.service import SpeakerService

router = APIRouter(tags=["identify"])


@router.post("/identify", response_model=IdentifyResponse)
def identify(body: IdentifyRequest, svc: SpeakerService = Depends(service)):
    vectors = {label: np.asarray(v, np.float32) for label, v in body.embeddings.items()}
    threshold = svc.settings.identify_threshold if body.threshold is None else body.threshold
    found = svc.identify(vectors, body.model, threshold)
    return IdentifyResponse(model=body.model, threshold=threshold, speakers=[
        IdentifiedCluster(label=i.label, name=i.name, speaker_id=i.speaker_id, score=round(i.score, 4)) for i in found])
