#include "runner.h"

const sg_test_t sg_suite_auth[] = {SG_SUITE_END};
