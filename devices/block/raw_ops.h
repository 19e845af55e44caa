/* The raw format's image-level operations (raw_ops.c), for raw.c's driver
 * table: creating sparse or preallocated files, info, growing. */
#ifndef OSIO_BLOCK_RAW_OPS_H
#define OSIO_BLOCK_RAW_OPS_H

#include "devices/block/block_driver.h"

int raw_create(int fd, const char *path, const struct block_create_opts *opts,
	       struct block_dev *parent, char *err, size_t errlen);
int raw_info(struct block_dev *bd, struct block_info *info);
int raw_resize(struct block_dev *bd, uint64_t size, char *err, size_t errlen);

#endif
