/* CMOS RTC/NVRAM access through ports 0x70/0x71 (Motorola MC146818A
 * register layout). */
#ifndef GUEST_CMOS_H
#define GUEST_CMOS_H

#include "types.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71

#define RTC_SECONDS	0x00
#define RTC_MINUTES	0x02
#define RTC_HOURS	0x04
#define RTC_DAY_OF_WEEK 0x06
#define RTC_DAY		0x07
#define RTC_MONTH	0x08
#define RTC_YEAR	0x09
#define RTC_REG_A	0x0a
#define RTC_REG_B	0x0b
#define RTC_REG_C	0x0c
#define RTC_REG_D	0x0d
#define RTC_CENTURY	0x32

#define REG_A_UIP	0x80
#define REG_B_SET	0x80
#define REG_B_PIE	0x40
#define REG_B_AIE	0x20
#define REG_B_UIE	0x10
#define REG_B_DM_BINARY 0x04
#define REG_B_24H	0x02
#define REG_D_VRT	0x80

/* The index keeps NMIs enabled (bit 7 clear). */
u8 cmos_read(u8 index);
void cmos_write(u8 index, u8 v);

#endif
