/* CMOS real-time clock (Motorola MC146818A at ports 0x70/0x71, IRQ 8) and its
 * battery-backed RAM, laid out the way SeaBIOS and PC guests read it. */
#ifndef OSIO_RTC_H
#define OSIO_RTC_H

#include <stdbool.h>
#include <stdint.h>

/* CMOS bytes of the PC/QEMU/SeaBIOS convention. */
#define CMOS_SHUTDOWN	0x0f /* shutdown status: why the CPU was last reset */
#define CMOS_FLOPPY	0x10 /* drive types, high nibble drive A (0: none) */
#define CMOS_DISK	0x12 /* hard disk types */
#define CMOS_EQUIPMENT	0x14 /* bit 1: FPU, bit 2: PS/2 mouse, bits 4-5: video */
#define CMOS_BASE_MEM	0x15 /* 0x15/0x16: KiB below 1 MiB (640) */
#define CMOS_EXT_MEM	0x17 /* 0x17/0x18: KiB above 1 MiB, at most 0xffff */
#define CMOS_CHECKSUM	0x2e /* 0x2e high, 0x2f low: sum of 0x10-0x2d */
#define CMOS_EXT_MEM2	0x30 /* 0x30/0x31: a copy of 0x17/0x18 */
#define CMOS_CENTURY	0x32 /* century, in the format of the time registers */
#define CMOS_MEM_16M	0x34 /* 0x34/0x35: 64 KiB units from 16 MiB up to 4 GiB */
#define CMOS_BOOT_ORDER 0x3d /* SeaBIOS: first and second boot device */
#define CMOS_BOOT_FLAGS 0x38 /* SeaBIOS: third boot device, signature check */
#define CMOS_MEM_HIGH	0x5b /* 0x5b-0x5d: 64 KiB units above 4 GiB */
#define CMOS_CPUS	0x5f /* number of CPUs minus 1 */

/* `rtc` is the state of an "rtc" device (machine_device(m, id)). */

/* Bit 7 of the last byte written to the index port: NMIs are masked. */
bool rtc_nmi_masked(void *rtc);

/* Firmware set-up (boot order, disk types...): reads and writes a CMOS byte
 * without the side effects a guest access has (reading register C does not
 * clear it). Writing a byte in 0x10-0x2d updates the checksum; writing the
 * time registers 0-9 or 0x32 sets the clock as a guest write would. Indexes
 * from 128 up do not exist: writes are ignored, reads give 0xff. */
void rtc_set_cmos(void *rtc, uint8_t index, uint8_t value);
uint8_t rtc_get_cmos(void *rtc, uint8_t index);

#endif
