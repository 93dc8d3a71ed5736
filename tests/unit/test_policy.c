#include "runner.h"

const sg_test_t sg_suite_policy[] = {SG_SUITE_END};
