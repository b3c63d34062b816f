/* audio_portaudio.c - the capture backend: PortAudio into a lock-free ring, plus device listing. */
#define _GNU_SOURCE /* sem_clockwait: the reader's wait on CLOCK_MONOTONIC */
#include <alsa/asoundlib.h>
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <pa_linux_alsa.h>
#include <portaudio.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audio/audio_backend.h"
#include "audio/spsc_ring.h"

/* A device whose callback has not run for this long is treated as gone. */
#define PA_SILENT_LIMIT_MS 2000L
/*
 * With real_time_only, a device that delivers more than PA_FAST_RATIO times its rate, plus
 * PA_FAST_SLACK_S of audio (buffers filled before the count began, a pipe's backlog), within a
 * window of up to PA_FAST_WINDOW_MS is broken: no clock runs that fast. An ALSA `type file` PCM
 * past the end of its infile replays its stale buffer as fast as the CPU goes (tens of millions
 * of frames a second); without this check the daemon would score that garbage, and burn two
 * cores, for ever.
 */
#define PA_FAST_RATIO 2.0
#define PA_FAST_SLACK_S 2.0
#define PA_FAST_WINDOW_MS 5000L
/*
 * How long closing waits for the stream to stop. Stopping joins PortAudio's capture thread, which
 * cannot be cancelled while it is inside ALSA; an ALSA file PCM reading a stalled FIFO sits in
 * read(2) there until data comes. The close then finishes on a thread of its own, and the device
 * is not reopened until it has.
 */
#define PA_CLOSE_WAIT_MS 250L

static const double pa_probe_rates_hz[] = { 8000, 16000, 22050, 44100, 48000 };
#define PA_N_PROBE_RATES (sizeof(pa_probe_rates_hz) / sizeof(pa_probe_rates_hz[0]))

struct audio_pa {
	struct audio_backend base;
	PaStream *stream;
	int pa_initialised;
	struct spsc_ring ring;
	sem_t data_ready;           /* posted by the callback after each write; the reader waits */
	int sem_ready;              /* data_ready initialised */
	size_t last_writes;         /* reader's last view of ring writes */
	uint64_t overruns_total;    /* ring overruns up to overruns_seen, in 64 bits */
	size_t overruns_seen;       /* the ring's (wrapping) counter when last added up */
	struct timespec last_alive; /* when the reader last saw the callback make progress */
	int real_time_only;         /* cfg->real_time_only: check the delivery speed */
	uint64_t frames_read;       /* frames the reader has taken from the ring */
	uint64_t fast_base;         /* frames delivered when the speed window began */
	struct timespec fast_since; /* when the speed window began */
	char name[160];
	char key[160]; /* the name asked for: one stream per device at a time */
	char desc[512];
	/* Closing: the flags and the link are guarded by pa_lock. */
	sem_t closed;        /* posted by the closer thread when the stream is closed */
	int closed_ready;    /* closed initialised */
	int close_done;      /* the stream is closed and PortAudio released */
	int close_abandoned; /* nobody waits any more: the closer thread frees p */
	struct audio_pa *next_closing;
};

/*
 * PortAudio's global state (its initialisation count, device list and list of open streams) is
 * not thread-safe, and each device monitor opens and closes streams from its own thread, and
 * closes may finish on a thread of their own: every PortAudio call that touches it is made
 * under this lock. Reading a stream (Pa_IsStreamActive) and stopping one are not, so a stuck
 * stop never holds up the others.
 */
static pthread_mutex_t pa_lock = PTHREAD_MUTEX_INITIALIZER;
static struct audio_pa *pa_closing; /* streams whose close has not finished yet (pa_lock) */

/* ALSA prints every probe of an absent card to stderr; what failed reaches us as error codes. */
static void alsa_quiet(const char *file, int line, const char *function, int errcode,
		       const char *fmt, ...)
{
	(void)file;
	(void)line;
	(void)function;
	(void)errcode;
	(void)fmt;
}

static void jack_quiet(const char *msg)
{
	(void)msg;
}

/*
 * PortAudio probes JACK and ALSA at start-up; both print a screenful when there is no server or
 * card. ALSA's handler is public API; JACK's is reached through the library PortAudio already
 * loaded, so we add no link dependency (and nothing happens if it is absent).
 */
static void quiet_audio_libraries(void)
{
	snd_lib_error_set_handler(alsa_quiet);
	const char *names[] = { "jack_set_error_function", "jack_set_info_function" };
	for (size_t i = 0; i < 2; i++) {
		void *sym = dlsym(RTLD_DEFAULT, names[i]);
		if (sym) {
			void (*set)(void (*)(const char *));
			memcpy(&set, &sym, sizeof(set));
			set(jack_quiet);
		}
	}
}

static int pa_start(struct auscult_err *err, const char *what)
{
	quiet_audio_libraries();
	PaError e = Pa_Initialize();
	if (e != paNoError)
		return auscult_fail(err, AUSCULT_ERR_DEVICE, "%s: cannot start PortAudio (%s)",
				    what, Pa_GetErrorText(e));
	return AUSCULT_OK;
}

/* PortAudio's text, plus the host API's own when PortAudio only says "host error". */
static void pa_error_text(PaError e, char *buf, size_t size)
{
	if (e == paUnanticipatedHostError) {
		const PaHostErrorInfo *h = Pa_GetLastHostErrorInfo();
		if (h && h->errorText && h->errorText[0]) {
			snprintf(buf, size, "%s: %s", Pa_GetErrorText(e), h->errorText);
			return;
		}
	}
	snprintf(buf, size, "%s", Pa_GetErrorText(e));
}

static long ms_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - t->tv_sec) * 1000L + (long)(now.tv_nsec - t->tv_nsec) / 1000000L;
}

/* t + ms, for the absolute deadlines of sem_clockwait. */
static struct timespec plus_ms(struct timespec t, long ms)
{
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

static struct timespec mono_plus_ms(long ms)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return plus_ms(t, ms);
}

/* Real-time thread: only copies into the ring (which counts what does not fit). */
static int pa_callback(const void *input, void *output, unsigned long frames,
		       const PaStreamCallbackTimeInfo *time_info, PaStreamCallbackFlags flags,
		       void *user)
{
	struct audio_pa *p = user;
	(void)output;
	(void)time_info;
	(void)flags;
	if (input) {
		spsc_ring_write(&p->ring, input, frames);
		/* Async-signal-safe, never blocks: the one wake-up a real-time thread may give. */
		sem_post(&p->data_ready);
	}
	return paContinue;
}

/* With real_time_only: false (err set) when the device has delivered far more than its clock
 * allows since the speed window began; the window restarts every PA_FAST_WINDOW_MS. */
static bool delivery_speed_ok(struct audio_pa *p, struct auscult_err *err)
{
	/* Everything the callback has delivered: read, waiting in the ring, or dropped. */
	uint64_t delivered = p->frames_read + spsc_ring_readable(&p->ring) + p->overruns_total;
	long window_ms = ms_since(&p->fast_since);
	double limit = (double)p->base.rate_hz *
		       (PA_FAST_RATIO * (double)window_ms / 1000.0 + PA_FAST_SLACK_S);
	if ((double)(delivered - p->fast_base) > limit) {
		auscult_fail(
			err, AUSCULT_ERR_DEVICE,
			"device '%s': %.1f s of audio came in %.2f s, far faster than its %u Hz "
			"(an ALSA file PCM past the end of its infile does this): the device "
			"is broken or gone",
			p->name, (double)(delivered - p->fast_base) / p->base.rate_hz,
			(double)window_ms / 1000.0, p->base.rate_hz);
		return false;
	}
	if (window_ms >= PA_FAST_WINDOW_MS) {
		clock_gettime(CLOCK_MONOTONIC, &p->fast_since);
		p->fast_base = delivered;
	}
	return true;
}

static int pa_read(struct audio_backend *b, float *frames, size_t max_frames, size_t *got,
		   int timeout_ms, struct auscult_err *err)
{
	struct audio_pa *p = (struct audio_pa *)b;
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	*got = 0;
	/* Fold the ring's word-sized counter into 64 bits before it can wrap twice. */
	size_t ov = spsc_ring_overruns(&p->ring);
	p->overruns_total += (size_t)(ov - p->overruns_seen);
	p->overruns_seen = ov;

	if (p->real_time_only && !delivery_speed_ok(p, err))
		return AUSCULT_ERR_DEVICE;

	for (;;) {
		size_t n = spsc_ring_read(&p->ring, frames, max_frames);
		if (n > 0) {
			p->frames_read += n;
			*got = n;
			return AUSCULT_OK;
		}
		size_t w = spsc_ring_writes(&p->ring);
		if (w != p->last_writes) {
			p->last_writes = w;
			clock_gettime(CLOCK_MONOTONIC, &p->last_alive);
		} else if (ms_since(&p->last_alive) > PA_SILENT_LIMIT_MS) {
			return auscult_fail(err, AUSCULT_ERR_DEVICE,
					    "device '%s': no audio for %.1f s (the capture callback "
					    "stopped): the device stalled or was unplugged",
					    p->name, (double)ms_since(&p->last_alive) / 1000.0);
		}
		PaError active = Pa_IsStreamActive(p->stream);
		if (active != 1) {
			char why[192];
			if (active < 0)
				pa_error_text(active, why, sizeof(why));
			else
				snprintf(why, sizeof(why), "the stream is no longer active");
			return auscult_fail(
				err, AUSCULT_ERR_DEVICE,
				"device '%s': capture stopped (PortAudio: %s): the device "
				"failed or was unplugged",
				p->name, why);
		}
		if (timeout_ms <= 0 || ms_since(&start) >= timeout_ms)
			return AUSCULT_ERR_TIMEOUT;
		/* Sleep until the callback writes (or the time is up) instead of polling: a post
		 * left from a write already read only costs one more look at the ring. */
		struct timespec until = plus_ms(start, timeout_ms);
		while (sem_clockwait(&p->data_ready, CLOCK_MONOTONIC, &until) != 0 &&
		       errno == EINTR)
			;
	}
}

static uint64_t pa_overruns(const struct audio_backend *b)
{
	const struct audio_pa *p = (const struct audio_pa *)b;
	return p->overruns_total + (size_t)(spsc_ring_overruns(&p->ring) - p->overruns_seen);
}

static const char *pa_describe(const struct audio_backend *b)
{
	return ((const struct audio_pa *)b)->desc;
}

/* Frees what p holds besides PortAudio. */
static void pa_free(struct audio_pa *p)
{
	spsc_ring_free(&p->ring);
	if (p->sem_ready)
		sem_destroy(&p->data_ready);
	if (p->closed_ready)
		sem_destroy(&p->closed);
	free(p);
}

/* Closes p's (stopped) stream and releases PortAudio. pa_lock held. */
static void pa_release_locked(struct audio_pa *p)
{
	if (p->stream)
		Pa_CloseStream(p->stream);
	p->stream = NULL;
	if (p->pa_initialised)
		Pa_Terminate();
	p->pa_initialised = 0;
}

/* The closer: stops the stream however long that takes, closes it, then wakes pa_close or, when
 * pa_close has stopped waiting, frees p itself. Its own thread, or pa_close's. */
static void *pa_closer(void *arg)
{
	struct audio_pa *p = arg;
	/* Abort, not stop: nothing queued is worth waiting for, and a dead device may never
	 * drain. Outside pa_lock: this is the call that may block. */
	Pa_AbortStream(p->stream);
	pthread_mutex_lock(&pa_lock);
	pa_release_locked(p);
	for (struct audio_pa **q = &pa_closing; *q; q = &(*q)->next_closing) {
		if (*q == p) {
			*q = p->next_closing;
			break;
		}
	}
	p->close_done = 1;
	int orphan = p->close_abandoned;
	if (!orphan)
		sem_post(&p->closed);
	pthread_mutex_unlock(&pa_lock);
	if (orphan)
		pa_free(p);
	return NULL;
}

static void pa_close(struct audio_backend *b)
{
	struct audio_pa *p = (struct audio_pa *)b;
	if (!p)
		return;
	pthread_mutex_lock(&pa_lock);
	p->next_closing = pa_closing;
	pa_closing = p;
	pthread_mutex_unlock(&pa_lock);

	pthread_attr_t attr;
	pthread_t closer;
	int started = 0;
	if (pthread_attr_init(&attr) == 0) {
		if (pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
		    pthread_create(&closer, &attr, pa_closer, p) == 0)
			started = 1;
		pthread_attr_destroy(&attr);
	}
	if (!started)
		pa_closer(p); /* no thread to spare: close here, however long it takes */

	struct timespec until = mono_plus_ms(PA_CLOSE_WAIT_MS);
	while (sem_clockwait(&p->closed, CLOCK_MONOTONIC, &until) != 0 && errno == EINTR)
		;
	pthread_mutex_lock(&pa_lock);
	int done = p->close_done;
	if (!done)
		p->close_abandoned = 1; /* the stream stays listed in pa_closing until it closes */
	pthread_mutex_unlock(&pa_lock);
	if (done)
		pa_free(p);
}

/* The capture ring: what the callback has written and nobody has read yet, and its size. */
static int pa_buffered(const struct audio_backend *b, size_t *ready, size_t *capacity)
{
	const struct audio_pa *p = (const struct audio_pa *)b;
	*ready = spsc_ring_readable(&p->ring);
	*capacity = p->ring.capacity_frames;
	return 1;
}

static const struct audio_backend_ops pa_ops = {
	.read = pa_read,
	.overruns = pa_overruns,
	.buffered = pa_buffered,
	.describe = pa_describe,
	.close = pa_close,
};

static int contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	if (n == 0)
		return 0;
	for (; *hay; hay++) {
		size_t i = 0;
		while (i < n && hay[i] &&
		       tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
			i++;
		if (i == n)
			return 1;
	}
	return 0;
}

/* An enumerated capture device named exactly name, else the first whose name contains it. */
static PaDeviceIndex find_device_by_name(const char *name)
{
	int count = Pa_GetDeviceCount();
	for (int i = 0; i < count; i++) {
		const PaDeviceInfo *d = Pa_GetDeviceInfo(i);
		if (d && d->maxInputChannels > 0 && strcmp(d->name, name) == 0)
			return i;
	}
	for (int i = 0; i < count; i++) {
		const PaDeviceInfo *d = Pa_GetDeviceInfo(i);
		if (d && d->maxInputChannels > 0 && contains_nocase(d->name, name))
			return i;
	}
	return paNoDevice;
}

/* "16000 44100 48000" (the probe rates the device takes), or "none of 8000..48000". */
static void supported_rates(const PaStreamParameters *in, char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < PA_N_PROBE_RATES; i++) {
		if (Pa_IsFormatSupported(in, NULL, pa_probe_rates_hz[i]) == paFormatIsSupported) {
			int n = snprintf(buf + used, size - used, "%s%.0f", used ? " " : "",
					 pa_probe_rates_hz[i]);
			if (n < 0 || (size_t)n >= size - used)
				break;
			used += (size_t)n;
		}
	}
	if (used == 0)
		snprintf(buf, size, "none of 8000 16000 22050 44100 48000");
}

/*
 * The rates an ALSA PCM takes without ALSA's plug layer converting (which it does, for a rate the
 * hardware lacks, with its linear converter: bench_resample measured no anti-alias filter at all,
 * 0-4 dB of alias rejection). Asks ALSA itself, with resampling disabled: `name` is an ALSA PCM
 * name, or a PortAudio name of an ALSA device ("USB Audio: - (hw:1,0)"), whose hw:C,D is used.
 * Sets *native (1: want_hz is native) and *best_hz (want_hz if native, else the lowest native
 * rate above it, else the highest below). Returns false when ALSA cannot tell (not an ALSA PCM,
 * busy, gone): the caller does without.
 */
static bool alsa_native_rate(const char *name, unsigned channels, unsigned want_hz, int *native,
			     unsigned *best_hz)
{
	char pcm_name[160];
	const char *hw = strstr(name, "(hw:");
	if (hw) {
		snprintf(pcm_name, sizeof(pcm_name), "%s", hw + 1);
		char *close = strchr(pcm_name, ')');
		if (close)
			*close = '\0';
	} else {
		snprintf(pcm_name, sizeof(pcm_name), "%s", name);
	}
	snd_pcm_t *pcm = NULL;
	snd_pcm_hw_params_t *hw_params = NULL;
	bool ok = false;
	if (snd_pcm_open(&pcm, pcm_name, SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK) < 0)
		return false;
	if (snd_pcm_hw_params_malloc(&hw_params) < 0)
		goto done;
	if (snd_pcm_hw_params_any(pcm, hw_params) < 0 ||
	    snd_pcm_hw_params_set_rate_resample(pcm, hw_params, 0) < 0)
		goto done;
	/* The channels PortAudio will ask for, when the PCM can: some hardware ties rates to them. */
	snd_pcm_hw_params_t *with_ch = NULL;
	if (snd_pcm_hw_params_malloc(&with_ch) == 0) {
		snd_pcm_hw_params_copy(with_ch, hw_params);
		if (snd_pcm_hw_params_set_channels(pcm, with_ch, channels) == 0)
			snd_pcm_hw_params_copy(hw_params, with_ch);
		snd_pcm_hw_params_free(with_ch);
	}
	if (snd_pcm_hw_params_test_rate(pcm, hw_params, want_hz, 0) == 0) {
		*native = 1;
		*best_hz = want_hz;
		ok = true;
		goto done;
	}
	*native = 0;
	*best_hz = 0;
	static const unsigned common_hz[] = { 8000,  11025, 16000, 22050,  32000, 44100,
					      48000, 88200, 96000, 176400, 192000 };
	for (size_t i = 0; i < sizeof(common_hz) / sizeof(common_hz[0]); i++) {
		if (snd_pcm_hw_params_test_rate(pcm, hw_params, common_hz[i], 0) != 0)
			continue;
		if (common_hz[i] > want_hz) {
			*best_hz = common_hz[i];
			break;
		}
		*best_hz = common_hz[i];
	}
	if (*best_hz == 0) {
		unsigned r = want_hz;
		int dir = 0;
		if (snd_pcm_hw_params_set_rate_near(pcm, hw_params, &r, &dir) == 0)
			*best_hz = r;
	}
	ok = *best_hz > 0;
done:
	if (hw_params)
		snd_pcm_hw_params_free(hw_params);
	snd_pcm_close(pcm);
	return ok;
}

int audio_portaudio_open(struct audio_backend **out, const struct audio_source_config *cfg,
			 struct auscult_err *err)
{
	struct audio_pa *p = NULL;
	PaStreamParameters in;
	PaAlsaStreamInfo alsa_info;
	const PaDeviceInfo *info = NULL;
	char why[256];
	int rc;

	*out = NULL;
	uint32_t channels = cfg->input_channels ? cfg->input_channels : 1;
	if (channels > 64)
		return auscult_fail(err, AUSCULT_ERR_INVALID,
				    "device: %u input channels is out of range [1, 64]", channels);
	p = calloc(1, sizeof(*p));
	if (!p)
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "device: out of memory");
	if (sem_init(&p->data_ready, 0, 0) != 0) {
		free(p);
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "device: cannot create a semaphore");
	}
	p->sem_ready = 1;
	if (sem_init(&p->closed, 0, 0) != 0) {
		pa_free(p);
		return auscult_fail(err, AUSCULT_ERR_NOMEM, "device: cannot create a semaphore");
	}
	p->closed_ready = 1;
	if (cfg->device_name && cfg->device_name[0])
		snprintf(p->name, sizeof(p->name), "%s", cfg->device_name);
	else if (cfg->device_index >= 0)
		snprintf(p->name, sizeof(p->name), "#%d", cfg->device_index);
	else
		snprintf(p->name, sizeof(p->name), "default");
	snprintf(p->key, sizeof(p->key), "%s", p->name);
	p->real_time_only = cfg->real_time_only;

	pthread_mutex_lock(&pa_lock);
	for (const struct audio_pa *c = pa_closing; c; c = c->next_closing) {
		if (strcmp(c->key, p->key) == 0) {
			/* A second stream on a wedged device would only wedge too (or find it
			 * busy); the old one must let go first. */
			rc = auscult_fail(err, AUSCULT_ERR_DEVICE,
					  "device '%s': its previous stream has not closed yet (its "
					  "capture thread is blocked in the driver)",
					  p->name);
			goto fail;
		}
	}
	rc = pa_start(err, p->name);
	if (rc != AUSCULT_OK)
		goto fail;
	p->pa_initialised = 1;

	memset(&in, 0, sizeof(in));
	in.channelCount = (int)channels;
	in.sampleFormat = paFloat32;
	in.hostApiSpecificStreamInfo = NULL;
	if (cfg->device_name && cfg->device_name[0]) {
		in.device = find_device_by_name(cfg->device_name);
		if (in.device == paNoDevice) {
			/* Not enumerated (PortAudio lists only some ALSA PCMs): hand the name to
			 * ALSA itself, which knows every PCM in its configuration and hw:C,D. */
			if (Pa_HostApiTypeIdToHostApiIndex(paALSA) < 0) {
				rc = auscult_fail(err, AUSCULT_ERR_DEVICE,
						  "device '%s': no capture device has this name and "
						  "this PortAudio has no ALSA to ask: run `auscult "
						  "devices` to list the devices",
						  p->name);
				goto fail;
			}
			PaAlsa_InitializeStreamInfo(&alsa_info);
			alsa_info.deviceString = p->name;
			in.device = paUseHostApiSpecificDeviceSpecification;
			in.hostApiSpecificStreamInfo = &alsa_info;
		}
	} else if (cfg->device_index >= 0) {
		if (cfg->device_index >= Pa_GetDeviceCount()) {
			rc = auscult_fail(err, AUSCULT_ERR_DEVICE,
					  "device #%d: no such device (PortAudio has %d): run "
					  "`auscult devices` to list them",
					  cfg->device_index, Pa_GetDeviceCount());
			goto fail;
		}
		in.device = cfg->device_index;
	} else {
		in.device = Pa_GetDefaultInputDevice();
		if (in.device == paNoDevice) {
			rc = auscult_fail(
				err, AUSCULT_ERR_DEVICE,
				"device: there is no default capture device (no sound card "
				"found): plug in a microphone, or name an ALSA PCM");
			goto fail;
		}
	}
	if (in.device != paUseHostApiSpecificDeviceSpecification) {
		info = Pa_GetDeviceInfo(in.device);
		if (!info || info->maxInputChannels < 1) {
			rc = auscult_fail(
				err, AUSCULT_ERR_DEVICE,
				"device '%s': %s is not a capture device (it has no input "
				"channels): run `auscult devices` to list capture devices",
				p->name, info ? info->name : "it");
			goto fail;
		}
		if ((int)channels > info->maxInputChannels) {
			rc = auscult_fail(err, AUSCULT_ERR_DEVICE,
					  "device '%s': %u channels asked, '%s' has %d", p->name,
					  channels, info->name, info->maxInputChannels);
			goto fail;
		}
		/* The high latency: a daemon that scores seconds of sound gains nothing from small
		 * buffers and would lose samples on a busy Pi. */
		in.suggestedLatency = info->defaultHighInputLatency;
		snprintf(p->name, sizeof(p->name), "%s", info->name);
	} else {
		in.suggestedLatency = 0.1;
	}

	/* Which rate the device has natively, when it is an ALSA device and ALSA says. */
	const PaHostApiInfo *api = info ? Pa_GetHostApiInfo(info->hostApi) : NULL;
	bool is_alsa = info ? api && api->type == paALSA : true;
	int native = 0;
	unsigned native_hz = 0;
	unsigned ask_hz = cfg->input_rate_hz ? cfg->input_rate_hz : cfg->output_rate_hz;
	bool known = is_alsa && alsa_native_rate(info ? info->name : p->name, channels, ask_hz,
						 &native, &native_hz);

	double rate_hz = cfg->input_rate_hz;
	PaError e;
	if (rate_hz == 0 && known) {
		/* A rate the hardware has: what auscult converts, it converts with a real filter. */
		rate_hz = native_hz;
		native = 1;
		e = Pa_IsFormatSupported(&in, NULL, rate_hz);
	} else if (rate_hz == 0) {
		rate_hz = cfg->output_rate_hz;
		e = Pa_IsFormatSupported(&in, NULL, rate_hz);
		/* Only a rate the device lacks is worth trying others for: a device that is not
		 * there fails them all, and PortAudio prints two lines on stderr for each. */
		if (e == paInvalidSampleRate) {
			if (info) {
				rate_hz = info->defaultSampleRate;
			} else {
				rate_hz = 0;
				for (size_t i = PA_N_PROBE_RATES; i-- > 0;) {
					if (Pa_IsFormatSupported(&in, NULL, pa_probe_rates_hz[i]) ==
					    paFormatIsSupported) {
						rate_hz = pa_probe_rates_hz[i];
						break;
					}
				}
				if (rate_hz == 0)
					rate_hz = cfg->output_rate_hz;
			}
			e = Pa_IsFormatSupported(&in, NULL, rate_hz);
		}
	} else {
		e = Pa_IsFormatSupported(&in, NULL, rate_hz);
	}
	if (e != paFormatIsSupported) {
		char rates[96];
		pa_error_text(e, why, sizeof(why));
		if (e == paInvalidSampleRate) {
			supported_rates(&in, rates, sizeof(rates));
			rc = auscult_fail(err, AUSCULT_ERR_DEVICE,
					  "device '%s': cannot capture at %.0f Hz (PortAudio: %s): "
					  "it takes %s Hz; set the input rate to one of them",
					  p->name, rate_hz, why, rates);
		} else if (!info) {
			const PaHostErrorInfo *h = Pa_GetLastHostErrorInfo();
			const char *alsa = h && h->hostApiType == paALSA && h->errorText &&
							   h->errorText[0]
						   ? h->errorText
						   : "no details";
			rc = auscult_fail(
				err, AUSCULT_ERR_DEVICE,
				"device '%s': no capture device or ALSA PCM has this name "
				"(PortAudio: %s; ALSA: %s): run `auscult devices` to list "
				"devices, or name an ALSA PCM such as hw:1,0 or one defined in "
				"~/.asoundrc",
				p->name, why, alsa);
		} else {
			rc = auscult_fail(err, AUSCULT_ERR_DEVICE,
					  "device '%s': cannot capture %u channel(s) of float32 at "
					  "%.0f Hz (PortAudio: %s)",
					  p->name, channels, rate_hz, why);
		}
		goto fail;
	}

	double ring_s = audio_ring_seconds(cfg);
	if (ring_s > 60.0)
		ring_s = 60.0;
	rc = spsc_ring_init(&p->ring, (size_t)(ring_s * rate_hz) + 1, channels, err);
	if (rc != AUSCULT_OK)
		goto fail;

	e = Pa_OpenStream(&p->stream, &in, NULL, rate_hz, paFramesPerBufferUnspecified, paClipOff,
			  pa_callback, p);
	if (e != paNoError) {
		p->stream = NULL;
		pa_error_text(e, why, sizeof(why));
		rc = auscult_fail(
			err, AUSCULT_ERR_DEVICE,
			"device '%s': cannot open %u channel(s) at %.0f Hz (PortAudio: %s)",
			p->name, channels, rate_hz, why);
		goto fail;
	}
	p->base.ops = &pa_ops;
	p->base.rate_hz = (uint32_t)rate_hz;
	p->base.channels = channels;
	p->base.honours_timeout = 1;
	if (known && native)
		snprintf(p->desc, sizeof(p->desc), "device '%s' (%.0f Hz native, %u ch)", p->name,
			 rate_hz, channels);
	else if (known)
		snprintf(p->desc, sizeof(p->desc),
			 "device '%s' (%.0f Hz from ALSA's plug converting "
			 "its native %u Hz with no anti-alias filter: leave the rate out to convert in "
			 "auscult, %u ch)",
			 p->name, rate_hz, native_hz, channels);
	else
		snprintf(p->desc, sizeof(p->desc), "device '%s' (%.0f Hz, %u ch)", p->name, rate_hz,
			 channels);
	clock_gettime(CLOCK_MONOTONIC, &p->last_alive);
	p->fast_since = p->last_alive;
	e = Pa_StartStream(p->stream);
	if (e != paNoError) {
		pa_error_text(e, why, sizeof(why));
		rc = auscult_fail(err, AUSCULT_ERR_DEVICE,
				  "device '%s': cannot start capture "
				  "(PortAudio: %s)",
				  p->name, why);
		goto fail;
	}
	pthread_mutex_unlock(&pa_lock);
	*out = &p->base;
	return AUSCULT_OK;
fail:
	pa_release_locked(p);
	pthread_mutex_unlock(&pa_lock);
	pa_free(p);
	return rc;
}

int audio_list_devices(FILE *out, struct auscult_err *err)
{
	pthread_mutex_lock(&pa_lock);
	int rc = pa_start(err, "devices");
	if (rc != AUSCULT_OK) {
		pthread_mutex_unlock(&pa_lock);
		return rc;
	}
	int count = Pa_GetDeviceCount();
	if (count < 0) {
		rc = auscult_fail(err, AUSCULT_ERR_DEVICE,
				  "devices: PortAudio cannot count the "
				  "devices (%s)",
				  Pa_GetErrorText(count));
		goto done;
	}
	PaDeviceIndex def = Pa_GetDefaultInputDevice();
	int shown = 0;
	for (int i = 0; i < count; i++) {
		const PaDeviceInfo *d = Pa_GetDeviceInfo(i);
		if (!d || d->maxInputChannels < 1)
			continue;
		const PaHostApiInfo *api = Pa_GetHostApiInfo(d->hostApi);
		PaStreamParameters in;
		memset(&in, 0, sizeof(in));
		in.device = i;
		in.channelCount = 1;
		in.sampleFormat = paFloat32;
		in.suggestedLatency = d->defaultHighInputLatency;
		char rates[96];
		supported_rates(&in, rates, sizeof(rates));
		if (strncmp(rates, "none", 4) == 0 && d->maxInputChannels > 1) {
			/* Some hardware only opens with all its channels. */
			in.channelCount = d->maxInputChannels;
			supported_rates(&in, rates, sizeof(rates));
		}
		if (shown == 0)
			fprintf(out, "%5s  %-40s %-6s %4s %8s  %s\n", "index", "name", "api", "ch",
				"default", "rates (Hz)");
		fprintf(out, "%4d%c  %-40s %-6s %4d %8.0f  %s\n", i, i == def ? '*' : ' ', d->name,
			api ? api->name : "?", d->maxInputChannels, d->defaultSampleRate, rates);
		shown++;
	}
	if (shown == 0) {
		rc = auscult_fail(err, AUSCULT_ERR_DEVICE,
				  "no capture device found (PortAudio "
				  "sees %d device(s), none with inputs)",
				  count);
		goto done;
	}
	fprintf(out, "(* = default; a device can also be named by an ALSA PCM such as "
		     "hw:1,0)\n");
	rc = AUSCULT_OK;
done:
	Pa_Terminate();
	pthread_mutex_unlock(&pa_lock);
	return rc;
}
