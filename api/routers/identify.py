"""Identify: cluster embeddings in, names and scores out (what a RunPod worker's output feeds)."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session as DbSession

from api import deps
from api.schemas import IdentifiedCluster, IdentifyRequest, IdentifyResponse
from hearback.embedders import identify_threshold
from service.settings import Settings
from speakers.identification import identify as identify_clusters
from speakers.matching import Matcher
from speakers.on_demand import OnDemandPipeline

router = APIRouter(tags=["identify"])


@router.post("/identify", dependencies=deps.NEEDS["write"], response_model=IdentifyResponse)
def identify(body: IdentifyRequest, db: DbSession = Depends(deps.get_db), matcher: Matcher = Depends(deps.matcher),
             models: OnDemandPipeline = Depends(deps.models), settings: Settings = Depends(deps.settings)):
    vectors = {label: np.asarray(v, np.float32) for label, v in body.embeddings.items()}
    threshold = identify_threshold(settings) if body.threshold is None else body.threshold
    found = identify_clusters(db, matcher, settings.workspace, vectors, body.embedder, models.embedder, threshold)
    return IdentifyResponse(embedder=body.embedder, model=body.embedder, threshold=threshold, speakers=[
        IdentifiedCluster(label=i.label, name=i.name, speaker_id=i.speaker_id, score=round(i.score, 4)) for i in found])
