# The reference's criterion code (facebookresearch/AVID-CMA: criterions/nce.py, criterions/avid.py and
# criterions/avid_cma.py at commit 93a8dfd), transcribed for avid's parity tests
# (test/ssl/reference-criterions.test.ts) and run under Debian's python3-torch. Kept as the reference computes,
# in float32 and in its exponential form (exp, divide, log), with its module structure: one NCECriterion whose
# normaliser Z is set by its first call and then serves every term; the memory banks updated inside the forward
# pass (after the scores' rows were read) by index_select, EMA, normalise, index_copy_; the loss terms halved and
# the coefficients normalised to sum to one. Only what cannot run here is left out: CUDA placement, the
# distributed gathers, and the random draws (AliasMethod), which the tests inject so that both sides contrast
# exactly the same memory rows.
import torch
from torch import nn
import torch.nn.functional as F


class NCECriterion(nn.Module):
    """criterions/nce.py: NCE with the partition function Z fixed at its first estimate."""

    def __init__(self):
        super().__init__()
        self.register_buffer('avg_exp_score', torch.tensor(-1.))

    def compute_partition_function(self, exp_scores_neg):
        if self.avg_exp_score > 0:
            return self.avg_exp_score
        with torch.no_grad():
            self.avg_exp_score = exp_scores_neg.mean()
        return self.avg_exp_score

    def forward(self, scores_pos, scores_neg):
        k = scores_neg.size(1)
        exp_pos = torch.exp(scores_pos)
        exp_neg = torch.exp(scores_neg)
        with torch.no_grad():
            z = self.compute_partition_function(exp_neg)
        p_model = torch.div(exp_pos, exp_pos + k * z)              # P(D=1 | positive)
        ln_pos = -torch.log(p_model).mean(-1)                      # positives averaged
        p_noise = torch.div(k * z, exp_neg + k * z)                # P(D=0 | negative)
        ln_neg = -torch.log(p_noise).sum(-1)                       # negatives summed
        return (ln_pos + ln_neg).mean()


def _scores(context, targets, temperature):
    """bmm of memory rows (B, M, D) with the anchors (B, D, 1), divided by the temperature."""
    return [torch.bmm(t, context).squeeze(-1) / temperature for t in targets]


class MemoryBanks(nn.Module):
    """The two banks (view1 = video, view2 = audio) and their update, as both criterions share it."""

    def __init__(self, video_mem, audio_mem, momentum=0.5, temperature=0.07):
        super().__init__()
        self.view1_mem = video_mem.clone().float()
        self.view2_mem = audio_mem.clone().float()
        self.momentum = [momentum, momentum]
        self.temperature = temperature

    def update_memory(self, video_emb, audio_emb, y):
        with torch.no_grad():
            for mem, emb, mom in ((self.view1_mem, video_emb, self.momentum[0]), (self.view2_mem, audio_emb, self.momentum[1])):
                rows = torch.index_select(mem, 0, y.view(-1))
                rows.mul_(mom)
                rows.add_(torch.mul(emb, 1 - mom))
                mem.index_copy_(0, y, F.normalize(rows, p=2, dim=1))


class AVIDSimilarityMemoryBank(MemoryBanks):
    """criterions/avid.py: scores against the own rows (positives) and the drawn rows (negatives)."""

    def __init__(self, video_mem, audio_mem, xModal, wModal, momentum=0.5):
        super().__init__(video_mem, audio_mem, momentum)
        self.xModal, self.wModal = xModal, wModal

    def forward(self, video_emb, audio_emb, y, idx):
        bs, dim = video_emb.shape
        k = idx.shape[1]
        video_emb = F.normalize(video_emb, p=2, dim=1).view(bs, dim, 1)
        audio_emb = F.normalize(audio_emb, p=2, dim=1).view(bs, dim, 1)
        with torch.no_grad():
            video_pos_mem = self.view1_mem[y].view(bs, 1, dim)
            audio_pos_mem = self.view2_mem[y].view(bs, 1, dim)
            video_neg_mem = self.view1_mem[idx].view(bs, k, dim)
            audio_neg_mem = self.view2_mem[idx].view(bs, k, dim)
        scores = {}
        if self.xModal:
            scores['v2a'] = _scores(video_emb, [audio_pos_mem, audio_neg_mem], self.temperature)
            scores['a2v'] = _scores(audio_emb, [video_pos_mem, video_neg_mem], self.temperature)
        if self.wModal:
            scores['v2v'] = _scores(video_emb, [video_pos_mem, video_neg_mem], self.temperature)
            scores['a2a'] = _scores(audio_emb, [audio_pos_mem, audio_neg_mem], self.temperature)
        self.update_memory(video_emb.squeeze(-1), audio_emb.squeeze(-1), y)
        return scores


class AVID(nn.Module):
    """criterions/avid.py: Self (wModal), Cross (xModal) or Joint AVID; each term halved, coefficients normalised."""

    def __init__(self, video_mem, audio_mem, xModal, wModal, loss_coeff, momentum=0.5, shared_criterion=True):
        super().__init__()
        self.nce_average = AVIDSimilarityMemoryBank(video_mem, audio_mem, xModal, wModal, momentum)
        self.loss_coeff = [c / sum(loss_coeff) for c in loss_coeff]
        # The reference has one criterion; shared_criterion=False gives each term its own Z (avid's option).
        self.criteria = {} if not shared_criterion else None
        self.criterion = NCECriterion()

    def criterion_for(self, term):
        if self.criteria is None:
            return self.criterion
        return self.criteria.setdefault(term, NCECriterion())

    def forward(self, emb1, emb2, target, idx):
        scores = self.nce_average(emb1, emb2, target, idx)
        x_loss = torch.zeros(1)
        w_loss = torch.zeros(1)
        terms = {}
        for k in scores:
            loss = self.criterion_for(k)(*scores[k])
            terms[k] = loss
            if k in {'v2a', 'a2v'}:
                x_loss = x_loss + loss / 2. * self.loss_coeff[0]
            else:
                w_loss = w_loss + loss / 2. * self.loss_coeff[1]
        return x_loss + w_loss, terms


class AVIDSimilarityPositiveExpansion(MemoryBanks):
    """criterions/avid_cma.py (93a8dfd): instance discrimination across modalities plus positive-set discrimination
    within each modality; the within-modal negatives are the first num_negatives_within cross-modal ones."""

    def __init__(self, video_mem, audio_mem, positive_set, num_negatives_within=None, momentum=0.5):
        super().__init__(video_mem, audio_mem, momentum)
        self.positive_set = positive_set.int()
        self.num_negatives_within = num_negatives_within

    def forward(self, video_emb, audio_emb, y, neg_idx):
        bs, dim = video_emb.shape
        video_emb = F.normalize(video_emb, p=2, dim=1).view(bs, dim, 1)
        audio_emb = F.normalize(audio_emb, p=2, dim=1).view(bs, dim, 1)
        with torch.no_grad():
            video_self_mem = self.view1_mem[y].view(bs, 1, dim)
            audio_self_mem = self.view2_mem[y].view(bs, 1, dim)
            pos_idx = self.positive_set[y].long()
            video_pos_mem = self.view1_mem[pos_idx]
            audio_pos_mem = self.view2_mem[pos_idx]
            video_neg_mem = self.view1_mem[neg_idx]
            audio_neg_mem = self.view2_mem[neg_idx]
        scores = {}
        scores['inst-v2a'] = _scores(video_emb, [audio_self_mem, audio_neg_mem], self.temperature)
        scores['inst-a2v'] = _scores(audio_emb, [video_self_mem, video_neg_mem], self.temperature)
        wm_video_neg, wm_audio_neg = video_neg_mem, audio_neg_mem
        if self.num_negatives_within is not None:
            wm_video_neg = video_neg_mem[:, :self.num_negatives_within]
            wm_audio_neg = audio_neg_mem[:, :self.num_negatives_within]
        scores['pos-v2v'] = _scores(video_emb, [video_pos_mem, wm_video_neg], self.temperature)
        scores['pos-a2a'] = _scores(audio_emb, [audio_pos_mem, wm_audio_neg], self.temperature)
        self.update_memory(video_emb.squeeze(-1), audio_emb.squeeze(-1), y)
        return scores

    @staticmethod
    def draw_negatives(positive_set, y, rand_idx):
        """memory_sampling's map of a draw from N - pos_k values onto the instances outside the (sorted) positive set."""
        pos_idx = positive_set[y].long()
        ref = pos_idx - torch.arange(0, pos_idx.shape[1], dtype=pos_idx.dtype).unsqueeze(0)
        return rand_idx + (rand_idx.unsqueeze(2) >= ref.unsqueeze(1)).sum(2)


class AVID_CMA(nn.Module):
    """criterions/avid_cma.py (93a8dfd): xModalInst and wModalPos terms, halved, coefficients normalised; the
    partition function restored from an AVID checkpoint is the mean of its Zs."""

    def __init__(self, video_mem, audio_mem, positive_set, num_negatives_within=None, momentum=0.5, xModalInstCoeff=1., wModalPosCoeff=1., checkpoint_zs=None):
        super().__init__()
        self.nce_average = AVIDSimilarityPositiveExpansion(video_mem, audio_mem, positive_set, num_negatives_within, momentum)
        total = xModalInstCoeff + wModalPosCoeff
        self.xModalInstCoeff = xModalInstCoeff / total
        self.wModalPosCoeff = wModalPosCoeff / total
        self.criterion = NCECriterion()
        if checkpoint_zs is not None:
            self.criterion.avg_exp_score = torch.stack([torch.as_tensor(z, dtype=torch.float32) for z in checkpoint_zs]).mean()

    def forward(self, emb1, emb2, target, neg_idx):
        scores = self.nce_average(emb1, emb2, target, neg_idx)
        x_inst, w_pos = 0., 0.
        terms = {}
        for k in scores:
            loss = self.criterion(*scores[k])
            terms[k] = loss
            if k in {'inst-v2a', 'inst-a2v'}:
                x_inst += loss / 2.
            elif k in {'pos-v2v', 'pos-a2a'}:
                w_pos += loss / 2.
        return x_inst * self.xModalInstCoeff + w_pos * self.wModalPosCoeff, terms
