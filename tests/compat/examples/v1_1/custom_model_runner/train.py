"""BentoML 1.1 examples/custom_model_runner/train.py: train the CNN and save it with bentoml.pytorch.

torchvision's MNIST download is replaced by generated 28x28 "digits" (a bright stripe whose
column is the label), and the default epoch count is 1 so the test stays short.
"""

from __future__ import annotations

import argparse

import net
import torch
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset


def generated_digits(n: int, seed: int) -> TensorDataset:
    gen = torch.Generator().manual_seed(seed)
    target = torch.randint(0, 10, (n,), generator=gen)
    data = torch.rand((n, 1, 28, 28), generator=gen) * 0.2
    for i, label in enumerate(target.tolist()):
        col = 2 + label * 2
        data[i, 0, 4:24, col : col + 2] = 1.0
    return TensorDataset((data - 0.1307) / 0.3081, target)


def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            print(
                f"Train Epoch: {epoch} [{batch_idx * len(data)}/{len(train_loader.dataset)}]\tLoss: {loss.item():.6f}"
            )
            if args.dry_run:
                break


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()  # sum up batch loss
            pred = output.argmax(dim=1, keepdim=True)  # get the index of the max log-probability
            correct += pred.eq(target.view_as(pred)).sum().item()

    test_loss /= len(test_loader.dataset)
    print(f"\nTest set: Average loss: {test_loss:.4f}, Accuracy: {correct}/{len(test_loader.dataset)}\n")


def main():
    # Training settings
    parser = argparse.ArgumentParser(description="PyTorch MNIST Example")
    parser.add_argument("--batch-size", type=int, default=64, metavar="N")
    parser.add_argument("--test-batch-size", type=int, default=1000, metavar="N")
    parser.add_argument("--epochs", type=int, default=1, metavar="N")
    parser.add_argument("--lr", type=float, default=1.0, metavar="LR")
    parser.add_argument("--gamma", type=float, default=0.7, metavar="M")
    parser.add_argument("--no-cuda", action="store_true", default=False)
    parser.add_argument("--dry-run", action="store_true", default=False)
    parser.add_argument("--seed", type=int, default=1, metavar="S")
    parser.add_argument("--log-interval", type=int, default=10, metavar="N")
    args = parser.parse_args()
    use_cuda = not args.no_cuda and torch.cuda.is_available()

    torch.manual_seed(args.seed)
    torch.set_num_threads(1)

    device = torch.device("cuda" if use_cuda else "cpu")

    train_ds = generated_digits(256, seed=0)
    test_ds = generated_digits(64, seed=1)
    train_loader = DataLoader(train_ds, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test_ds, batch_size=args.test_batch_size)

    model = net.CNN().to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)

    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch)
        test(model, device, test_loader)
        scheduler.step()

    import bentotui as bentoml

    model = bentoml.pytorch.save_model(
        "mnist_cnn",
        model,
        signatures={"__call__": {"batchable": True}},
        external_modules=[net],
    )
    print(f"Saved: {model}")


if __name__ == "__main__":
    raise SystemExit(main())
