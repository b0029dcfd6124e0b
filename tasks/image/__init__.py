"""The image task: MNIST, CIFAR-10 and image folders; the lecture's CNN, a DNN and ImageNet-class models."""
