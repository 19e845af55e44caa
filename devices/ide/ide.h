/* The PIIX3 IDE function ("piix-ide", PCI 8086:7010 at 00:01.1): what the
 * rest of osio may do with it besides creating it by name. */
#ifndef OSIO_IDE_H
#define OSIO_IDE_H

/* `ide` is the state of a "piix-ide" device; position = controller * 2 +
 * location (vmspec.h's VM_IDE_DRIVES). Both are safe from any thread.
 *
 * Puts the ISO image at path into the DVD drive at position (replacing the
 * disc in it); the guest sees a media event and a UNIT ATTENTION. -ENODEV:
 * no DVD drive there; -EBUSY: the guest has locked the tray (it gets an
 * eject request event); other -errno: the file cannot be used (logged). */
int ide_dvd_insert(void *ide, unsigned position, const char *path);
/* The same with the image's descriptor fd (taken over, closed on failure;
 * open for reading): path is only its name. For a worker that cannot open
 * the file itself. */
int ide_dvd_insert_fd(void *ide, unsigned position, const char *path, int fd);
/* Takes the disc out: -ENODEV as above, -ENOMEDIUM when the drive is
 * empty, -EBUSY when the guest has locked the tray (it gets an eject
 * request event, as when the button is pressed). */
int ide_dvd_eject(void *ide, unsigned position);

/* Called (on the event loop's thread, no lock held) when a disk whose
 * on_errorN is pause had a READ, WRITE or FLUSH CACHE fail in the block
 * layer with -ENOSPC or -EIO: the command is held, not failed (the drive
 * stays busy). The worker pauses the VM; the drive retries the command
 * every second by itself and at once on ide_retry. id: "ide0:1" (the
 * device's id, controller and location); path: the image; err: the
 * negative errno. Once per failed command, and again when a retry asked
 * for by ide_retry fails. */
typedef void (*ide_error_fn)(void *opaque, const char *id, const char *path, int err);

/* fn may be NULL (none). Any thread. */
void ide_set_error_hook(void *ide, ide_error_fn fn, void *opaque);
/* Submits the held commands again now (after the VM is resumed). Any
 * thread. */
void ide_retry(void *ide);

/* Turns on the legacy port decoding (PCI I/O space, IDETIM decode enable
 * of both channels) as a BIOS leaves it, for kernels booted without one. */
void ide_firmware_setup(void *ide);

struct block_dev;
/* The image of the hard disk at position, or NULL when there is none (an
 * empty position, a DVD drive): for a checkpoint of a running VM,
 * block_snapshot on it while the VM is stopped and the device paused. */
struct block_dev *ide_disk_block_dev(void *ide, unsigned position);

#endif
