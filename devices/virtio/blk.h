/* virtio-blk (devices/virtio/blk.c) for the worker: the hook that pauses the VM when a disk
 * fails with a host error under on_error=pause, and the retry that goes with resuming it. */
#ifndef OSIO_VIRTIO_BLK_H
#define OSIO_VIRTIO_BLK_H

/* Called (on a block pool thread) when a request failed with -ENOSPC or -EIO and the device's
 * on_error is pause: the request is held, not failed. The worker pauses the VM; the device
 * retries held requests every second by itself and at once on virtio_blk_retry. id: the
 * device's id; path: the image; err: the negative errno. */
typedef void (*virtio_blk_error_fn)(void *opaque, const char *id, const char *path, int err);

/* state: machine_device(m, id) of a "virtio-blk" device. fn may be NULL (none). */
void virtio_blk_set_error_hook(void *state, virtio_blk_error_fn fn, void *opaque);
/* Submits the held requests again now (after the VM is resumed). Any thread. */
void virtio_blk_retry(void *state);

struct block_dev;
/* The image the disk reads and writes (for a checkpoint of a running VM: block_snapshot on it
 * while the VM is stopped and the device paused). */
struct block_dev *virtio_blk_block_dev(void *state);

#endif
