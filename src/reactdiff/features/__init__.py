"""Per-frame feature streams computed from a person's own audio and video (25 fps).

Audio: :mod:`reactdiff.features.audio` (decoding, resampling, ``AUDIO_FUNCTIONS``),
:mod:`reactdiff.features.mfcc` (Kaldi-compatible MFCC) and :mod:`reactdiff.features.voice`
(voice activity and prosody). Importing this package stays cheap: heavy modules load on use.
"""

# Light (numpy only at import time): mediapipe, PyAV and the models load inside extract() itself.
from reactdiff.features.extract import extract  # noqa: E402,F401
