// Run by `avid launch --script`: joins the group from the environment launch set, all-reduces its rank,
// reports what it saw; with `fail-rank R`, rank R exits with code 3 while the others wait in a barrier; with
// `wait`, every rank prints its pid and then idles forever (only its launcher's end can stop it).
import * as T from '../../../src/tensor/index.js';
import * as dist from '../../../src/distributed/index.js';

const env = dist.fromEnvironment();
if (!env) throw new Error('launch.worker: WORLD_SIZE is not set');
dist.initProcessGroup(env);
const [mode, failRank] = process.argv.slice(2);
if (mode === 'fail-rank') {
  if (env.rank === Number(failRank)) {
    console.error('failing on purpose');
    process.exit(3);
  }
  dist.barrier(); // never completes: the failed rank is gone
}
if (mode === 'wait') {
  console.log(`pid=${process.pid}`);
  setInterval(() => {}, 1000);
} else {
  const sum = T.tidy(() => {
    const t = T.full([1], env.rank + 1);
    dist.allReduce([t]);
    return t.item();
  });
  console.log(`rank=${env.rank} local=${env.localRank}/${env.localWorldSize} world=${env.worldSize} sum=${sum} threads=${process.env.AVID_NUM_THREADS} addr=${env.masterAddr} store=${dist.processGroupInfo()!.store}`);
  dist.destroy();
}
