/* CMOS RTC/NVRAM access for the guest programs. */
#include "cmos.h"
#include "io.h"

u8 cmos_read(u8 index)
{
	outb(CMOS_INDEX, index & 0x7f);
	return inb(CMOS_DATA);
}

void cmos_write(u8 index, u8 v)
{
	outb(CMOS_INDEX, index & 0x7f);
	outb(CMOS_DATA, v);
}
