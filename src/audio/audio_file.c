/* audio_file.c - the file backend: anything libsndfile reads (WAV, FLAC, ...), as float frames. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/regular_file.h"
#include "audio/audio_backend.h"

/* A RIFF/WAVE header with its fmt and data chunk headers is 44 bytes. */
#define WAV_MIN_HEADER_BYTES 44
/* Bytes read to explain a refusal: enough to reach the fmt chunk behind a few small chunks. */
#define WAV_PROBE_BYTES 512
/*
 * 16-bit PCM (every DCASE recording, and what `auscult record` writes) is read as integers and
 * scaled here, this many frames per call: libsndfile's own int-to-float loop was two thirds of
 * a 10-s WAV's decoding. The scale is libsndfile's (1 / 32768, exact), so the floats are the
 * same bits either way.
 */
#define PCM16_CHUNK_FRAMES 8192u
/*
 * libsndfile reads a file through this many bytes of cache (its virtual I/O): on its own
 * descriptor it parses a WAV header in some thirty reads and seeks of a few bytes each and
 * reads the data 16 kB a call, and those system calls were most of opening a 10-s clip and a
 * third of reading it (a sixth of a head model's clip score as bench_score measures it).
 */
#define FILE_CACHE_BYTES 65536

/* The WAV format tags libsndfile decodes; anything else is a codec it does not have. */
static const unsigned wav_known_tags[] = { 0x0001, 0x0002, 0x0003, 0x0006,
					   0x0007, 0x0011, 0x0031, 0xFFFE };

static uint32_t le32_at(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The format tag of a RIFF/WAVE file's fmt chunk, or -1 if it is not within the first bytes. */
static long wav_format_tag(const unsigned char *b, ssize_t n)
{
	if (n < 12 || memcmp(b, "RIFF", 4) != 0 || memcmp(b + 8, "WAVE", 4) != 0)
		return -1;
	size_t at = 12;
	while (at + 10 <= (size_t)n) {
		uint32_t size = le32_at(b + at + 4);
		if (memcmp(b + at, "fmt ", 4) == 0)
			return (long)((unsigned)b[at + 8] | (unsigned)b[at + 9] << 8);
		if (size > (size_t)n)
			return -1;
		at += 8 + size + (size & 1);
	}
	return -1;
}

/*
 * A RIFF/WAVE file whose data chunk announces more bytes than the file holds (cut short by a full
 * disk or a copy stopped half way, or a header never finished): libsndfile quietly reads what is
 * there. Writes "PATH: truncated: ..." into msg and returns 1 if so; 0 for a whole WAV or another
 * format. Walks the chunk headers with pread, so the file offset stays where libsndfile wants it.
 */
static int wav_is_short(int fd, off_t file_bytes, const char *path, char *msg, size_t msg_size)
{
	unsigned char b[12];
	if (pread(fd, b, 12, 0) != 12 || memcmp(b, "RIFF", 4) != 0 || memcmp(b + 8, "WAVE", 4) != 0)
		return 0;
	uint64_t at = 12;
	uint32_t frame_bytes = 0, rate_hz = 0;
	for (int chunks = 0; chunks < 64 && at + 8 <= (uint64_t)file_bytes; chunks++) {
		if (pread(fd, b, 8, (off_t)at) != 8)
			return 0;
		uint32_t size = le32_at(b + 4);
		if (memcmp(b, "fmt ", 4) == 0 && size >= 16) {
			unsigned char fmt[16];
			if (pread(fd, fmt, 16, (off_t)(at + 8)) != 16)
				return 0;
			rate_hz = le32_at(fmt + 4);
			frame_bytes = (uint32_t)fmt[12] | (uint32_t)fmt[13] << 8;
		}
		if (memcmp(b, "data", 4) == 0) {
			uint64_t have = (uint64_t)file_bytes - (at + 8);
			/* 0xFFFFFFFF: a WAV written as a stream (ffmpeg, arecord to a pipe), its length
			 * never filled in; what is there is the whole of it. */
			if (size <= have || size == UINT32_MAX)
				return 0;
			if (frame_bytes > 0 && rate_hz > 0) {
				double per_s = (double)frame_bytes * rate_hz;
				snprintf(msg, msg_size,
					 "%s: truncated: the header announces %.3f s of audio (%" PRIu32
					 " data bytes), the file holds %.3f s (%" PRIu64
					 " bytes); it was cut short - copy or record it again",
					 path, size / per_s, size, (double)have / per_s, have);
			} else {
				snprintf(msg, msg_size,
					 "%s: truncated: the header announces %" PRIu32
					 " data bytes, the file holds %" PRIu64
					 "; it was cut short - copy or record it again",
					 path, size, have);
			}
			return 1;
		}
		at += 8 + (uint64_t)size + (size & 1);
	}
	return 0;
}

/* The file as libsndfile sees it through its virtual I/O: a position, and a cached stretch. */
struct file_cache {
	int fd;
	sf_count_t size;    /* bytes in the file, from the fstat at open */
	sf_count_t pos;     /* libsndfile's offset */
	sf_count_t buf_at;  /* file offset of buf[0] */
	size_t buf_len;     /* valid bytes in buf */
	unsigned char *buf; /* FILE_CACHE_BYTES */
	int err;            /* errno of the last failed read, 0: none (libsndfile's virtual I/O
			       can only see a short read, which it takes for the end) */
};

static sf_count_t cache_size(void *user)
{
	return ((const struct file_cache *)user)->size;
}

static sf_count_t cache_seek(sf_count_t offset, int whence, void *user)
{
	struct file_cache *c = user;
	sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? c->pos : c->size;
	if (base + offset < 0)
		return -1;
	c->pos = base + offset;
	return c->pos;
}

/* pread until n bytes, the end of the file or an error (kept in c->err): the bytes read. */
static size_t pread_full(struct file_cache *c, void *dst, size_t n, sf_count_t at)
{
	size_t done = 0;
	while (done < n) {
		ssize_t got = pread(c->fd, (unsigned char *)dst + done, n - done, (off_t)at + done);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			c->err = errno;
		if (got <= 0)
			break;
		done += (size_t)got;
	}
	return done;
}

static sf_count_t cache_read(void *ptr, sf_count_t count, void *user)
{
	struct file_cache *c = user;
	unsigned char *dst = ptr;
	sf_count_t done = 0;
	while (done < count) {
		sf_count_t rel = c->pos - c->buf_at;
		if (rel >= 0 && rel < (sf_count_t)c->buf_len) {
			size_t n = c->buf_len - (size_t)rel;
			if ((sf_count_t)n > count - done)
				n = (size_t)(count - done);
			memcpy(dst + done, c->buf + rel, n);
			done += (sf_count_t)n;
			c->pos += (sf_count_t)n;
			continue;
		}
		if (count - done >= FILE_CACHE_BYTES) { /* a long read goes straight through */
			size_t n = pread_full(c, dst + done, (size_t)(count - done), c->pos);
			done += (sf_count_t)n;
			c->pos += (sf_count_t)n;
			break;
		}
		c->buf_at = c->pos;
		c->buf_len = pread_full(c, c->buf, FILE_CACHE_BYTES, c->pos);
		if (c->buf_len == 0)
			break;
	}
	return done;
}

static sf_count_t cache_write(const void *ptr, sf_count_t count, void *user)
{
	(void)ptr;
	(void)count;
	(void)user;
	return 0; /* opened for reading only */
}

static sf_count_t cache_tell(void *user)
{
	return ((const struct file_cache *)user)->pos;
}

static SF_VIRTUAL_IO cache_io = { cache_size, cache_seek, cache_read, cache_write, cache_tell };

struct audio_file {
	struct audio_backend base;
	SNDFILE *sf;
	int fd; /* ours: libsndfile reads it through cache */
	struct file_cache cache;
	sf_count_t frames_read;
	int16_t *pcm16; /* PCM16_CHUNK_FRAMES x channels, or NULL: not 16-bit PCM */
	bool floats;    /* 32- or 64-bit float samples, which can hold NaN and infinities */
	char desc[256];
	char path[256];
	char warning[AUSCULT_ERR_MSG_MAX]; /* base.warning points here when the file is short */
};

/* Up to max_frames frames of a 16-bit file as floats, as sf_readf_float gives them: its count;
 * 0 at the end or on an error, which sf_error then tells. */
static sf_count_t read_pcm16(struct audio_file *f, float *frames, size_t max_frames)
{
	const float scale = 1.0f / 32768.0f;
	sf_count_t total = 0;
	while ((size_t)total < max_frames) {
		size_t want = max_frames - (size_t)total;
		if (want > PCM16_CHUNK_FRAMES)
			want = PCM16_CHUNK_FRAMES;
		sf_count_t n = sf_readf_short(f->sf, f->pcm16, (sf_count_t)want);
		if (n <= 0)
			return total ? total : n;
		float *out = frames + (size_t)total * f->base.channels;
		const size_t n_samples = (size_t)n * f->base.channels;
		for (size_t i = 0; i < n_samples; i++)
			out[i] = (float)f->pcm16[i] * scale;
		total += n;
		if ((size_t)n < want)
			break;
	}
	return total;
}

static int file_read(struct audio_backend *b, float *frames, size_t max_frames, size_t *got,
		     int timeout_ms, struct auscult_err *err)
{
	struct audio_file *f = (struct audio_file *)b;
	(void)timeout_ms;
	*got = 0;
	sf_count_t n = f->pcm16 ? read_pcm16(f, frames, max_frames)
				: sf_readf_float(f->sf, frames, (sf_count_t)max_frames);
	/* A NaN or an infinity would pass the front end as a finite ~385 dB, and train or score
	 * on as if it were sound. */
	size_t values = n > 0 ? (size_t)n * f->base.channels : 0;
	for (size_t i = 0; f->floats && i < values; i++)
		if (!isfinite(frames[i])) {
			sf_count_t frame = f->frames_read + (sf_count_t)(i / f->base.channels);
			return auscult_fail(err, AUSCULT_ERR_FORMAT,
					    "%s: sample %lld (at %.3f s) is not a number (%s): the "
					    "file is damaged; export or record it again",
					    f->path, (long long)frame,
					    (double)frame / (double)f->base.rate_hz,
					    isnan(frames[i]) ? "NaN" : "infinite");
		}
	if (n > 0) {
		f->frames_read += n;
		*got = (size_t)n;
		return AUSCULT_OK;
	}
	int e = sf_error(f->sf);
	if (e != SF_ERR_NO_ERROR)
		return auscult_fail(err, AUSCULT_ERR_IO,
				    "%s: read failed after %lld frames "
				    "(libsndfile: %s)",
				    f->path, (long long)f->frames_read, sf_strerror(f->sf));
	if (f->cache.err) /* a failed read looks like the end to libsndfile: it is not one */
		return auscult_fail(err, AUSCULT_ERR_IO, "%s: read failed after %lld frames (%s)",
				    f->path, (long long)f->frames_read, strerror(f->cache.err));
	return AUSCULT_ERR_EOF;
}

static uint64_t file_overruns(const struct audio_backend *b)
{
	(void)b;
	return 0;
}

static const char *file_describe(const struct audio_backend *b)
{
	return ((const struct audio_file *)b)->desc;
}

static void file_close(struct audio_backend *b)
{
	struct audio_file *f = (struct audio_file *)b;
	if (!f)
		return;
	if (f->sf)
		sf_close(f->sf);
	if (f->fd >= 0)
		close(f->fd);
	free(f->pcm16);
	free(f->cache.buf);
	free(f);
}

static const struct audio_backend_ops file_ops = {
	.read = file_read,
	.overruns = file_overruns,
	.describe = file_describe,
	.close = file_close,
};

/* Tells apart the ways a file libsndfile refused can be wrong, for a message that says which. */
static int explain_refusal(const char *path, const unsigned char *head, ssize_t n, off_t size,
			   int sf_code, struct auscult_err *err)
{
	long tag = wav_format_tag(head, n);
	int is_riff = n >= 4 && (memcmp(head, "RIFF", 4) == 0 || memcmp(head, "RIFX", 4) == 0 ||
				 memcmp(head, "RF64", 4) == 0);
	const char *why = sf_error_number(sf_code);

	if (size == 0)
		return auscult_fail(err, AUSCULT_ERR_TRUNCATED,
				    "%s: empty file (0 bytes): expected an audio file such as a "
				    "16-bit PCM WAV; re-copy or re-record it",
				    path);
	if (is_riff && size < WAV_MIN_HEADER_BYTES)
		return auscult_fail(
			err, AUSCULT_ERR_TRUNCATED,
			"%s: truncated WAV header (%lld bytes, a WAV header needs at least "
			"%d) (libsndfile: %s): the file is incomplete; re-copy or "
			"re-record it",
			path, (long long)size, WAV_MIN_HEADER_BYTES, why);
	if (tag >= 0) {
		int known = 0;
		for (size_t i = 0; i < sizeof(wav_known_tags) / sizeof(wav_known_tags[0]); i++)
			known |= (unsigned long)tag == wav_known_tags[i];
		if (!known)
			return auscult_fail(err, AUSCULT_ERR_UNSUPPORTED,
					    "%s: unsupported audio encoding: WAV codec 0x%04lx "
					    "(libsndfile: %s): convert it to 16-bit PCM WAV, e.g. "
					    "`sox IN -b 16 -e signed OUT.wav`",
					    path, tag, why);
	}
	if (sf_code == SF_ERR_UNSUPPORTED_ENCODING || (is_riff && strstr(why, "nsupported")))
		return auscult_fail(err, AUSCULT_ERR_UNSUPPORTED,
				    "%s: unsupported audio encoding (libsndfile: %s): convert it to "
				    "16-bit PCM WAV, e.g. `sox IN -b 16 -e signed OUT.wav`",
				    path, why);
	if (is_riff)
		return auscult_fail(
			err, AUSCULT_ERR_FORMAT,
			"%s: damaged WAV file (libsndfile: %s): expected a RIFF/WAVE file "
			"with fmt and data chunks; re-copy or re-record it",
			path, why);
	return auscult_fail(err, AUSCULT_ERR_FORMAT,
			    "%s: not an audio file (libsndfile: %s): expected WAV, FLAC or another "
			    "format libsndfile reads; for headerless PCM use the stdin source",
			    path, why);
}

int audio_file_open(struct audio_backend **out, const struct audio_source_config *cfg,
		    struct auscult_err *err)
{
	struct audio_file *f = NULL;
	SF_INFO info;
	struct stat st;
	int fd = -1;
	int rc;
	const char *path = cfg->path;

	*out = NULL;
	if (!path || !path[0])
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "audio file: no path given: name a WAV or FLAC file");
	fd = regular_file_open(path, "the audio file", &st, &rc, err);
	if (fd < 0)
		return rc;
	f = calloc(1, sizeof(*f));
	if (!f) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory", path);
		goto fail;
	}
	f->fd = -1;
	snprintf(f->path, sizeof(f->path), "%s", path);
	/* The first bytes explain a refusal; pread leaves the offset at 0 for libsndfile. */
	unsigned char head[WAV_PROBE_BYTES] = { 0 };
	ssize_t head_len = pread(fd, head, sizeof(head), 0);
	memset(&info, 0, sizeof(info));
	f->cache.fd = fd;
	f->cache.size = st.st_size;
	f->cache.buf = malloc(FILE_CACHE_BYTES);
	if (!f->cache.buf) {
		rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory", path);
		goto fail;
	}
	f->sf = sf_open_virtual(&cache_io, SFM_READ, &info, &f->cache);
	if (!f->sf) {
		rc = explain_refusal(path, head, head_len, S_ISREG(st.st_mode) ? st.st_size : 1,
				     sf_error(NULL), err);
		goto fail;
	}
	if (info.channels < 1 || info.samplerate < 1) {
		rc = auscult_fail(err, AUSCULT_ERR_FORMAT,
				  "%s: header says %d channels at %d Hz: "
				  "expected at least 1 channel and a positive rate",
				  path, info.channels, info.samplerate);
		goto fail;
	}
	if ((unsigned)info.samplerate < AUDIO_INPUT_RATE_MIN_HZ ||
	    (unsigned)info.samplerate > AUDIO_INPUT_RATE_MAX_HZ) {
		rc = auscult_fail(err, AUSCULT_ERR_UNSUPPORTED,
				  "%s: header says %d Hz, out of range [%u, %u]; resample it, e.g. "
				  "`sox IN -r 16000 OUT.wav`",
				  path, info.samplerate, AUDIO_INPUT_RATE_MIN_HZ,
				  AUDIO_INPUT_RATE_MAX_HZ);
		goto fail;
	}
	if (info.frames == 0) {
		rc = auscult_fail(err, AUSCULT_ERR_TRUNCATED,
				  "%s: no samples (the header is there "
				  "but the data is empty): re-record it",
				  path);
		goto fail;
	}
	f->floats = (info.format & SF_FORMAT_SUBMASK) == SF_FORMAT_FLOAT ||
		    (info.format & SF_FORMAT_SUBMASK) == SF_FORMAT_DOUBLE;
	if ((info.format & SF_FORMAT_SUBMASK) == SF_FORMAT_PCM_16) {
		f->pcm16 = malloc((size_t)PCM16_CHUNK_FRAMES * (size_t)info.channels *
				  sizeof(*f->pcm16));
		if (!f->pcm16) {
			rc = auscult_fail(err, AUSCULT_ERR_NOMEM, "%s: out of memory", path);
			goto fail;
		}
	}
	f->base.ops = &file_ops;
	f->base.rate_hz = (uint32_t)info.samplerate;
	f->base.channels = (uint32_t)info.channels;
	f->base.honours_timeout = 0;
	if (wav_is_short(fd, st.st_size, path, f->warning, sizeof(f->warning)))
		f->base.warning = f->warning;
	snprintf(f->desc, sizeof(f->desc), "file %s (%d Hz, %d ch)", path, info.samplerate,
		 info.channels);
	f->fd = fd;
	*out = &f->base;
	return AUSCULT_OK;
fail:
	if (f) {
		if (f->sf)
			sf_close(f->sf);
		free(f->pcm16);
		free(f->cache.buf);
		free(f);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}
