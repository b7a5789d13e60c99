"""The seed articles' CIFAR-10 script, with numtorch in place of torch and torchvision.

Changes from the articles' code: the imports (``import numtorch as torch``,
``from numtorch.vision import datasets, transforms``); ``F`` is imported (one article forgets
it); the data is read from a CIFAR-10 archive you already have (``cifar-10-python.tar.gz`` or
its extracted ``cifar-10-batches-py/`` under ``--root``) instead of downloaded; and the progress
line is printed every ``--print-every`` mini-batches (the article's 2000 never triggers with
its batch size of 100).

Run: python examples/cifar10_cnn.py --root DIR [--epochs 2] [--batch-size 4]
"""
import argparse
import time

import numtorch as torch
import numtorch.nn as nn
import numtorch.nn.functional as F
import numtorch.optim as optim
from numtorch.vision import datasets, transforms


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--root", default="./data", help="directory holding the CIFAR-10 archive")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--lr", type=float, default=0.001)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--print-every", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    torch.manual_seed(a.seed)

    transform = transforms.Compose(
        [transforms.ToTensor(),
         transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    trainset = datasets.CIFAR10(root=a.root, train=True, download=False, transform=transform)
    trainloader = torch.utils.data.DataLoader(trainset, batch_size=a.batch_size, shuffle=True,
                                              num_workers=a.workers)
    testset = datasets.CIFAR10(root=a.root, train=False, download=False, transform=transform)
    testloader = torch.utils.data.DataLoader(testset, batch_size=a.batch_size, shuffle=False,
                                             num_workers=a.workers)

    net = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=a.lr, momentum=0.9)
    start = time.perf_counter()
    for epoch in range(a.epochs):
        running_loss = 0.0
        for i, data in enumerate(trainloader, 0):
            inputs, labels = data
            optimizer.zero_grad()
            outputs = net(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
            if i % a.print_every == a.print_every - 1:
                print('[%d, %5d] loss: %.3f' % (epoch + 1, i + 1, running_loss / a.print_every))
                running_loss = 0.0
    print('Finished Training in %.1f s' % (time.perf_counter() - start))

    correct = 0
    total = 0
    with torch.no_grad():
        for data in testloader:
            images, labels = data
            outputs = net(images)
            _, predicted = torch.max(outputs.data, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    accuracy = 100 * correct / total
    print('Accuracy of the network on the %d test images: %d %%' % (total, accuracy))
    return accuracy


if __name__ == "__main__":
    main()
