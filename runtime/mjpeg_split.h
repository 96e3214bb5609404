/* mjpeg_split.h - cut a byte stream of concatenated JPEGs (MJPEG as written
 * by `ffmpeg -f mjpeg` or `rpicam-vid --codec mjpeg -o -`) into frames
 * without decoding them.
 *
 * The splitter follows the JPEG marker structure: SOI, marker segments
 * (each skipped by its 16-bit length, so 0xFF bytes inside a segment such as
 * a Huffman table never look like markers), and after SOS the entropy-coded
 * data, where 0xFF00 is a stuffed 0xFF, RST0..7 are restart markers, 0xFF
 * fill bytes may repeat, and any other marker either ends the image (EOI) or
 * starts another segment (progressive JPEGs have several scans).  A frame is
 * complete at EOI after at least one SOS.
 *
 * Robustness: bytes outside a frame (garbage between frames) are skipped and
 * counted; a frame broken by a new SOI, an impossible marker or a segment
 * length below 2 is dropped (counted in `corrupt`) and the splitter resyncs
 * on the next SOI; a frame longer than max_frame is dropped (`oversize`);
 * pr_mjpeg_split_finish() at the end of the stream drops a last frame
 * without EOI (`truncated`).  Chunks may be cut anywhere, down to one byte:
 * the state carries across calls.
 *
 * Memory: the frame being assembled lives in one buffer of at most
 * max_frame bytes, allocated at creation; feeding never allocates.  Not
 * thread-safe; one owner. */
#ifndef PR_MJPEG_SPLIT_H
#define PR_MJPEG_SPLIT_H

#include <stddef.h>
#include <stdint.h>

typedef struct pr_mjpeg_split pr_mjpeg_split_t;

/* Called for each complete frame: data points into the splitter's buffer
 * and is valid only during the call.  Return 0 to go on, nonzero to make
 * pr_mjpeg_split_feed() return at once (the rest of the chunk is kept, the
 * next feed with NULL, 0 continues it; see there). */
typedef int (*pr_mjpeg_frame_cb)(const uint8_t *data, size_t len, void *ud);

typedef struct pr_mjpeg_split_stats {
    uint64_t frames;        /* complete frames handed to the callback */
    uint64_t corrupt;       /* frames dropped for a broken structure */
    uint64_t oversize;      /* frames dropped for exceeding max_frame */
    uint64_t truncated;     /* a frame cut by the end of the stream */
    uint64_t garbage;       /* bytes outside any frame */
    uint64_t bytes;         /* bytes fed */
} pr_mjpeg_split_stats_t;

/* max_frame: largest frame in bytes (at least 4).  Returns 0, PR_EINVAL or
 * PR_ENOMEM. */
int pr_mjpeg_split_create(pr_mjpeg_split_t **out, size_t max_frame);
void pr_mjpeg_split_destroy(pr_mjpeg_split_t *s);

/* Feed n bytes.  Frames completed by them go to cb in stream order.
 * Returns the number of bytes consumed: n, or fewer when cb asked to stop
 * (the caller feeds the rest later, starting at data + consumed). */
size_t pr_mjpeg_split_feed(pr_mjpeg_split_t *s, const uint8_t *data, size_t n,
                           pr_mjpeg_frame_cb cb, void *ud);

/* End of stream: a frame in progress is dropped and counted as truncated.
 * The splitter is then ready for a new stream (stats are kept). */
void pr_mjpeg_split_finish(pr_mjpeg_split_t *s);
/* Forget any frame in progress without counting it (a reopened pipe). */
void pr_mjpeg_split_reset(pr_mjpeg_split_t *s);

void pr_mjpeg_split_stats(const pr_mjpeg_split_t *s, pr_mjpeg_split_stats_t *st);

/* 1 if data[0..len) is exactly one complete JPEG by the rules above (no
 * bytes before SOI; anything after EOI is ignored): the check a file read
 * whole gets.  Allocation-free. */
int pr_mjpeg_is_complete(const uint8_t *data, size_t len);

#endif
