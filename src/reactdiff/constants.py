"""Fixed facts of the REACT data contract (see docs/data.md)."""

FPS = 25
#: Frames stored per clip in the REACT release, and frames models and metrics use.
CLIP_FRAMES_STORED = 751
CLIP_FRAMES = 750
#: ReactDiff generates listener behaviour window by window (2 s at 25 fps).
WINDOW_FRAMES = 50

AU_NAMES = (
    "AU1", "AU2", "AU4", "AU6", "AU7", "AU9", "AU10", "AU12",
    "AU14", "AU15", "AU17", "AU23", "AU24", "AU25", "AU26",
)
EXPRESSION_NAMES = ("Neutral", "Happy", "Sad", "Surprise", "Fear", "Disgust", "Anger", "Contempt")
#: The 25 emotion columns in order: 15 AU occurrences, valence, arousal, 8 expression probabilities.
EMOTION_COLUMNS = AU_NAMES + ("Valence", "Arousal") + EXPRESSION_NAMES
EMOTION_DIM = len(EMOTION_COLUMNS)  # 25
AU_SLICE = slice(0, 15)
VA_SLICE = slice(15, 17)
EXPRESSION_SLICE = slice(17, 25)

#: FaceVerse v2 coefficients: 52 expression, 3 rotation, 3 translation.
COEFFS_3DMM_DIM = 58
EXPRESSION_COEFFS_SLICE = slice(0, 52)
ROTATION_SLICE = slice(52, 55)
TRANSLATION_SLICE = slice(55, 58)

SPLITS = ("train", "val", "test")
