/* silent_clip.h - whether a clip is quieter than the daemon's machine-off gate. */
#ifndef AUSCULT_SILENT_CLIP_H
#define AUSCULT_SILENT_CLIP_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Whether the audio file at path, read at rate_hz as the model reads it, is quieter over all
 * than the level below which auscultd calls a machine off (PIPELINE_SILENCE_DBFS_DEFAULT): a
 * muted microphone or a machine that was off, whose score says nothing about the machine. When
 * it is, prints "TOOL: PATH: its level is X dBFS, below the -70 dBFS at which auscultd calls a
 * machine off: WHAT" on stderr (stdout flushed first). A file that cannot be read is not silent:
 * the scoring reported it already.
 */
bool silent_clip_note(const char *tool, const char *path, uint32_t rate_hz, const char *what);

#endif
