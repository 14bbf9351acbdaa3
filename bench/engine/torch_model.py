"""The PyTorch twin of mlv's seed architecture, shared by the engine benchmark and the
cross-check script: blocks of conv3x3(pad 1) -> ReLU -> maxpool 2x2 -> dropout, flatten, dense
layers with ReLU, logits. Attribute names match mlv's tensor names (conv1.weight, fc1.bias...)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class SeedNet(nn.Module):
    def __init__(self, image_size, in_channels, conv_filters, fc_sizes, dropout_rates, num_classes):
        super().__init__()
        self.n_conv, self.rates = len(conv_filters), list(dropout_rates)
        c, s = in_channels, image_size
        for i, f in enumerate(conv_filters):
            setattr(self, f"conv{i + 1}", nn.Conv2d(c, f, 3, padding=1))
            c, s = f, s // 2
        sizes = [c * s * s] + list(fc_sizes) + [num_classes]
        self.n_fc = len(sizes) - 1
        for j in range(self.n_fc):
            setattr(self, f"fc{j + 1}", nn.Linear(sizes[j], sizes[j + 1]))

    def forward(self, x):
        for i in range(self.n_conv):
            x = F.max_pool2d(F.relu(getattr(self, f"conv{i + 1}")(x)), 2)
            x = F.dropout(x, self.rates[i], self.training)
        x = torch.flatten(x, 1)
        for j in range(self.n_fc):
            x = getattr(self, f"fc{j + 1}")(x)
            if j < self.n_fc - 1:
                x = F.relu(x)
        return x
