#include "common.h"
namespace avid {
void registerDistributed(Napi::Env, Napi::Object) {}
}
