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
/* Takes the disc out: -ENODEV as above, -ENOMEDIUM when the drive is
 * empty, -EBUSY when the guest has locked the tray (it gets an eject
 * request event, as when the button is pressed). */
int ide_dvd_eject(void *ide, unsigned position);

/* Turns on the legacy port decoding (PCI I/O space, IDETIM decode enable
 * of both channels) as a BIOS leaves it, for kernels booted without one. */
void ide_firmware_setup(void *ide);

#endif
