"""Video clips: a phone's or a browser's recording in, an H.264 MP4 that DICOM can carry out.

Nothing here knows about the web or the database: :func:`clip.normalise_clip` takes the
uploaded bytes and gives back the stream to store, its facts (size, frames, rate) and a poster
frame, or refuses the clip with a message for the person who sent it.
"""
